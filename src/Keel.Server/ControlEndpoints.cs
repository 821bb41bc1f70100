using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>What an operator does to a run: cancel, pause, resume, reprioritize, signal, resolve an unknown outcome.</summary>
internal static class ControlEndpoints
{
    public static async Task<IResult> CancelAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync(request, """{"reason":"why"}""", cancellationToken, whenEmpty: new CancelRunRequest());
        await keel.As(KeelApi.Who(request.HttpContext, body.By)).CancelAsync(runId, body.Reason, cancellationToken);
        return await RunEndpoints.CurrentAsync(keel, runId, StatusCodes.Status202Accepted, cancellationToken);
    }

    /// <summary>200 when the run is paused already (it was not held), 202 when it pauses before its next operation.</summary>
    public static async Task<IResult> PauseAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync(request, """{"by":"who","reason":"why"}""", cancellationToken, whenEmpty: new RunActionRequest());
        var pausedNow = await keel.As(KeelApi.Who(request.HttpContext, body.By), body.Reason).PauseAsync(runId, cancellationToken);
        return await RunEndpoints.CurrentAsync(keel, runId, pausedNow ? StatusCodes.Status200OK : StatusCodes.Status202Accepted, cancellationToken);
    }

    public static async Task<IResult> ResumeAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync(request, """{"by":"who","reason":"why"}""", cancellationToken, whenEmpty: new RunActionRequest());
        await keel.As(KeelApi.Who(request.HttpContext, body.By), body.Reason).ResumeAsync(runId, cancellationToken);
        return await RunEndpoints.CurrentAsync(keel, runId, StatusCodes.Status200OK, cancellationToken);
    }

    /// <summary>A Blocked run becomes runnable again (it continues where it stopped); who and why are journaled.</summary>
    public static async Task<IResult> UnblockAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync(request, """{"by":"who","reason":"what was fixed"}""", cancellationToken, whenEmpty: new UnblockRunRequest());
        await keel.UnblockAsync(runId, KeelApi.Who(request.HttpContext, body.By), body.Reason, cancellationToken);
        return await RunEndpoints.CurrentAsync(keel, runId, StatusCodes.Status200OK, cancellationToken);
    }

    public static async Task<IResult> RetryAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync(request, """{"by":"who","reason":"what was fixed"}""", cancellationToken, whenEmpty: new RetryRunRequest());
        await keel.RetryAsync(runId, KeelApi.Who(request.HttpContext, body.By), body.Reason, cancellationToken);
        return await RunEndpoints.CurrentAsync(keel, runId, StatusCodes.Status200OK, cancellationToken);
    }

    public static async Task<IResult> ForkAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync<ForkRunRequest>(request, """{"at":3,"replaceResult":{"corrected":true},"by":"who","reason":"why"}""", cancellationToken);
        var fork = await keel.ForkAsync(runId, new ForkOptions
        {
            AtPosition = body.At, ReplaceResultJson = body.ReplaceResult?.GetRawText(), InputJson = body.Input?.GetRawText(), RunId = body.RunId,
            By = KeelApi.Who(request.HttpContext, body.By), Reason = body.Reason,
        }, cancellationToken);
        return await RunEndpoints.CurrentAsync(keel, fork.RunId, StatusCodes.Status201Created, cancellationToken);
    }

    /// <summary>The workers seen in the last <c>days</c> (default 7), most recently seen first.</summary>
    public static async Task<IResult> WorkersAsync(HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        var days = request.Query["days"].ToString() is { Length: > 0 } text
            ? double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && d > 0 ? d
                : throw new ApiRequestException(StatusCodes.Status400BadRequest, $"'days' must be a positive number (it is '{text}').")
            : 7;
        return Results.Json(InboxEndpoints.WithAlive(await keel.ListWorkersAsync(TimeSpan.FromDays(days), cancellationToken), TimeProvider.System.GetUtcNow()), ApiJson.Options);
    }

    public static async Task<IResult> SetPriorityAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync<SetPriorityRequest>(request, """{"priority":10}""", cancellationToken);
        return Results.Json(await keel.As(KeelApi.Who(request.HttpContext, body.By), body.Reason).SetPriorityAsync(runId, body.Priority, cancellationToken), ApiJson.Options);
    }

    /// <summary>The body is the payload itself (any JSON); an empty body sends a signal without payload. Who sends it and
    /// why, when given (<c>?by=</c>, <c>&amp;reason=</c>), are journaled.</summary>
    public static async Task<IResult> SignalAsync(string runId, string name, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        name = KeelApi.RouteValue(name);
        var payload = await ApiJson.ReadBodyAsync(request, cancellationToken);
        var by = KeelApi.Who(request.HttpContext, request.Query["by"].ToString() is { Length: > 0 } who ? who : null);
        var reason = request.Query["reason"].ToString() is { Length: > 0 } why ? why : null;
        await (by is null ? keel : keel.As(by, reason)).SignalWithJsonAsync(runId, name, string.IsNullOrWhiteSpace(payload) ? null : payload, cancellationToken);
        return Results.Json(new SignalStored(runId, name, Stored: true), ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    public static async Task<IResult> ResolveAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var body = await ApiJson.ReadAsync<ResolveStepRequest>(request, """{"action":"retry"|"complete"|"fail","result":...,"reason":"...","by":"..."}""", cancellationToken);
        var by = KeelApi.Who(request.HttpContext, body.By);
        var resolution = body.Action switch
        {
            "retry" => StepResolution.Retry(by, body.Reason),
            "complete" => StepResolution.CompleteWith(body.Result?.GetRawText()
                ?? throw new ApiRequestException(StatusCodes.Status400BadRequest, "'complete' needs the step's 'result' (JSON), as the step would have returned it."), by, body.Reason),
            "fail" => StepResolution.Fail(string.IsNullOrWhiteSpace(body.Reason)
                ? throw new ApiRequestException(StatusCodes.Status400BadRequest, "'fail' needs a 'reason': it becomes the step's error.")
                : body.Reason, by),
            _ => throw new ApiRequestException(StatusCodes.Status400BadRequest, $"Unknown action '{body.Action}'; use 'retry', 'complete' or 'fail'."),
        };
        var step = await keel.ResolveAsync(runId, resolution, cancellationToken);
        return Results.Json(new StepResolved(runId, step, body.Action), ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }
}
