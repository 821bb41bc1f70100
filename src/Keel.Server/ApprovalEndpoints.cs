using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>Approvals that wait for a person, and their decisions.</summary>
internal static class ApprovalEndpoints
{
    /// <summary>Pending approvals, oldest first; <c>runId</c> narrows to one run.</summary>
    public static async Task<IResult> ListAsync(HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        var runId = request.Query["runId"].ToString() is { Length: > 0 } id ? id : null;
        var limit = KeelApi.IntQuery(request, "limit", 100, 1, 1000);
        return Results.Json(await keel.ListPendingApprovalsAsync(runId, limit, cancellationToken), ApiJson.Options);
    }

    public static async Task<IResult> DecideAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync<DecideApprovalRequest>(request, """{"approved":true,"by":"alice","comment":"looks right"}""", cancellationToken);
        var approval = await keel.DecideApprovalAsync(runId, new ApprovalResponse
        {
            Approved = body.Approved, By = KeelApi.Who(request.HttpContext, body.By), Comment = body.Comment, ArgumentsJson = body.Arguments?.GetRawText(),
            Option = body.Option, ApprovalName = body.Name,
        }, cancellationToken);
        return Results.Json(new ApprovalDecided(approval, body.Approved), ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }
}
