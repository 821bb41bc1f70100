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

    /// <summary>A signed link to one pending approval for a reviewer without a key (<see cref="ApprovalLinks"/>).</summary>
    public static async Task<IResult> MakeLinkAsync(string runId, HttpRequest request, KeelClient keel, ApprovalLinks links, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync<ApprovalLinkRequest>(request, """{"reviewer":"dana@example.com","name":"refund","expiresInMinutes":1440}""", cancellationToken);
        if (string.IsNullOrWhiteSpace(body.Reviewer))
        {
            throw new ApiRequestException(StatusCodes.Status400BadRequest, "'reviewer' is empty: say who the link is for; their decision is journaled under that name.");
        }
        var run = await keel.GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        var pending = await keel.ListPendingApprovalsAsync(runId, 1000, cancellationToken);
        var approval = pending.FirstOrDefault(a => body.Name is null || string.Equals(a.Name, body.Name, StringComparison.Ordinal))
                       ?? throw new ApprovalNotPendingException(runId, $"Run '{runId}' ({run.Status}) waits for no approval{(body.Name is null ? "" : $" named '{body.Name}'")}: there is nothing to link to.");
        var lifetime = body.ExpiresInMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
        var (token, expires) = links.Make(approval, body.Reviewer.Trim(), KeelApi.Who(request.HttpContext, null), lifetime, TimeProvider.System.GetUtcNow());
        var link = $"{DashboardPath(request)}#/approve/{token}";
        return Results.Json(new ApprovalLinkMade(link, token, expires, body.Reviewer.Trim(), approval), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>What a link answers, for the reviewer's page; refused once it was used, expired or changed.</summary>
    public static async Task<IResult> ReadLinkAsync(HttpRequest request, KeelClient keel, ApprovalLinks links, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<ApprovalLinkToken>(request, """{"token":"..."}""", cancellationToken);
        var claims = links.Read(body.Token, TimeProvider.System.GetUtcNow());
        var approval = await PendingAsync(keel, claims, cancellationToken);
        return Results.Json(new ApprovalLinkView(approval, claims.Reviewer, claims.MadeBy, claims.ExpiresAt), ApiJson.Options);
    }

    /// <summary>The reviewer's decision through a link: journaled as theirs, for exactly the request the link names.</summary>
    public static async Task<IResult> DecideLinkAsync(HttpRequest request, KeelClient keel, ApprovalLinks links, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<ApprovalLinkDecision>(request, """{"token":"...","approved":true,"comment":"looks right"}""", cancellationToken);
        var claims = links.Read(body.Token, TimeProvider.System.GetUtcNow());
        _ = await PendingAsync(keel, claims, cancellationToken);
        var by = claims.MadeBy is null ? $"{claims.Reviewer} (approval link)" : $"{claims.Reviewer} (approval link from {claims.MadeBy})";
        try
        {
            var approval = await keel.DecideApprovalAsync(claims.RunId, new ApprovalResponse
            {
                Approved = body.Approved, By = by, Comment = body.Comment, ArgumentsJson = body.Arguments?.GetRawText(), Option = body.Option,
                ApprovalName = claims.Name, Sequence = claims.Sequence,
            }, cancellationToken);
            return Results.Json(new ApprovalDecided(approval, body.Approved), ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
        }
        catch (ApprovalNotPendingException)
        {
            throw await UsedAsync(keel, claims, cancellationToken); // decided by someone else between the check and the decision
        }
    }

    /// <summary>The request a link names, still waiting; a used link (the request decided) is refused with who decided it.</summary>
    private static async Task<PendingApproval> PendingAsync(KeelClient keel, ApprovalLinks.Claims claims, CancellationToken cancellationToken)
    {
        var pending = await keel.ListPendingApprovalsAsync(claims.RunId, 1000, cancellationToken);
        return pending.FirstOrDefault(a => a.Sequence == claims.Sequence) ?? throw await UsedAsync(keel, claims, cancellationToken);
    }

    private static async Task<ApiRequestException> UsedAsync(KeelClient keel, ApprovalLinks.Claims claims, CancellationToken cancellationToken)
    {
        var history = await keel.GetHistoryAsync(claims.RunId, cancellationToken);
        var decided = history?.Decisions.FirstOrDefault(d => d.Kind == DecisionKind.Approval && d.Position == claims.Sequence);
        return new ApiRequestException(StatusCodes.Status409Conflict, decided is null
            ? $"This approval link can no longer be used: run '{claims.RunId}' no longer waits for '{claims.Name}' " +
              $"({(history?.Run is { } run ? "the run is " + run.Status : "the run is gone")}). Nothing was changed."
            : $"This approval link can no longer be used: '{claims.Name}' was {(decided.Outcome?.ToString() ?? "decided").ToLowerInvariant()} " +
              $"by {decided.By ?? "someone"} at {decided.At:u}. Nothing was changed.");
    }

    /// <summary>Where the dashboard that goes with this API lives: the API's prefix without its last segment (<c>/api</c>
    /// → <c>/</c>, <c>/keel/api</c> → <c>/keel/</c>).</summary>
    private static string DashboardPath(HttpRequest request)
    {
        var runPath = KeelApi.RunPath(request); // {base}/runs/{id}
        var api = runPath[..runPath.LastIndexOf("/runs/", StringComparison.Ordinal)];
        return api[..(api.LastIndexOf('/') + 1)];
    }
}
