using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>Starting, listing, reading and waiting for runs.</summary>
internal static class RunEndpoints
{
    private const int MaxWaitSeconds = 300;

    public static async Task<IResult> ListAsync(HttpRequest request, KeelClient keel, CancellationToken cancellationToken) =>
        Results.Json(await keel.ListRunsAsync(Query(request), cancellationToken), ApiJson.Options);

    /// <summary>Runs per status, with the list's filters (<c>status</c> narrows which statuses are counted).</summary>
    public static async Task<IResult> CountAsync(HttpRequest request, KeelClient keel, CancellationToken cancellationToken) =>
        Results.Json(await keel.CountRunsAsync(Query(request), cancellationToken), ApiJson.Options);

    /// <summary>The list a request's query describes (<c>status</c>, <c>workflow</c>, <c>waitingForPerson</c>,
    /// <c>createdAfter</c>, <c>createdBefore</c>, <c>limit</c>, <c>cursor</c>); a bad value is refused with 400.</summary>
    public static RunQuery Query(HttpRequest request) =>
        new()
        {
            Statuses = Statuses(request),
            WorkflowName = request.Query["workflow"].ToString() is { Length: > 0 } workflow ? workflow : null,
            WaitingForPerson = Flag(request, "waitingForPerson"),
            CreatedAfter = Time(request, "createdAfter"),
            CreatedBefore = Time(request, "createdBefore"),
            Limit = KeelApi.IntQuery(request, "limit", 50, 1, 1000),
            Cursor = request.Query["cursor"].ToString() is { Length: > 0 } cursor ? cursor : null,
        };

    public static async Task<IResult> StartAsync(HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<StartRunRequest>(request, """{"workflow":"name","input":{...}}""", cancellationToken);
        if (string.IsNullOrWhiteSpace(body.Workflow))
        {
            throw new ApiRequestException(StatusCodes.Status400BadRequest, "'workflow' is empty; give the workflow's registered name.");
        }
        var options = new StartWorkflowOptions { RunId = body.RunId, Priority = body.Priority ?? 0, AllowUnknownWorkflow = body.AllowUnknownWorkflow ?? false };
        var started = await keel.StartWithJsonAsync(body.Workflow, body.Input?.GetRawText() ?? "null", options, cancellationToken);
        return started.Created
            ? Results.Json(started, ApiJson.Options, statusCode: StatusCodes.Status201Created)
            : Results.Json(started, ApiJson.Options);
    }

    public static Task<IResult> GetAsync(string runId, KeelClient keel, CancellationToken cancellationToken) =>
        CurrentAsync(keel, KeelApi.RunId(runId), StatusCodes.Status200OK, cancellationToken);

    /// <summary>The run as it is now, answered with <paramref name="status"/>; 404 when there is no such run.</summary>
    public static async Task<IResult> CurrentAsync(KeelClient keel, string runId, int status, CancellationToken cancellationToken) =>
        Results.Json(await keel.GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId), ApiJson.Options, statusCode: status);

    public static async Task<IResult> JournalAsync(string runId, KeelClient keel, CancellationToken cancellationToken) =>
        Results.Json(await keel.GetJournalAsync(KeelApi.RunId(runId), cancellationToken), ApiJson.Options);

    /// <summary>The run's history as its journal tells it (<see cref="RunHistory"/>), with <c>next</c>: the calls of this
    /// API that act on it (its handoff's next actions: resolve a step, decide an approval, send a signal, unblock, resume...).</summary>
    public static async Task<IResult> HistoryAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var history = await keel.GetHistoryAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        var body = JsonSerializer.SerializeToNode(history, ApiJson.Options)!.AsObject();
        body["next"] = JsonSerializer.SerializeToNode(NextActions.For(RunHandoff.From(history), KeelApi.RunPath(request)), ApiJson.Options);
        if (history.Run?.Owner is { } owner)
        {
            // Who holds it, and whether that worker still lives: a run held by a dead worker is not running.
            var worker = (await keel.ListWorkersAsync(TimeSpan.FromDays(7), cancellationToken)).FirstOrDefault(w => w.WorkerId == owner);
            body["holder"] = new System.Text.Json.Nodes.JsonObject
            {
                ["workerId"] = owner,
                ["alive"] = worker?.IsAliveAt(TimeProvider.System.GetUtcNow()) ?? false,
                ["lastSeenAt"] = worker is null ? null : JsonSerializer.SerializeToNode(worker.LastSeenAt, ApiJson.Options),
                ["host"] = worker?.Host,
            };
        }
        return Results.Json(body, ApiJson.Options);
    }

    /// <summary>The run handed to a person (<see cref="RunHandoff"/>): goal, state, ran, decided, failed, remains, and
    /// <c>next</c>, each action with the call of this API that does it (<c>method</c>, <c>path</c>, <c>body</c>).</summary>
    public static async Task<IResult> HandoffAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var handoff = await keel.GetHandoffAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        var body = JsonSerializer.SerializeToNode(handoff, ApiJson.Options)!.AsObject();
        var next = body["next"]!.AsArray();
        var runPath = KeelApi.RunPath(request);
        for (var i = 0; i < handoff.Next.Count; i++)
        {
            var call = NextActions.For(handoff.Next[i], runPath);
            var item = next[i]!.AsObject();
            item["method"] = call.Method;
            item["path"] = call.Path;
            item["body"] = call.Body;
        }
        return Results.Json(body, ApiJson.Options);
    }

    /// <summary>Long poll: the run once it ended (200), or as it is when <c>timeout</c> seconds pass first (202).</summary>
    public static async Task<IResult> WaitAsync(string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var seconds = KeelApi.IntQuery(request, "timeout", 30, 0, MaxWaitSeconds);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            return Results.Json(await keel.WaitForCompletionAsync(runId, timeout.Token), ApiJson.Options);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return await CurrentAsync(keel, runId, StatusCodes.Status202Accepted, cancellationToken);
        }
    }

    private static RunStatus[] Statuses(HttpRequest request) =>
        request.Query["status"]
            .SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(text => Enum.TryParse<RunStatus>(text, ignoreCase: true, out var status) && !int.TryParse(text, CultureInfo.InvariantCulture, out _)
                ? status
                : throw new ApiRequestException(StatusCodes.Status400BadRequest,
                    $"Unknown status '{text}'; use one or more of: {string.Join(", ", Enum.GetNames<RunStatus>())}."))
            .Distinct()
            .ToArray();

    private static bool Flag(HttpRequest request, string name) => request.Query[name].ToString() switch
    {
        "" or "false" => false,
        "true" => true,
        var text => throw new ApiRequestException(StatusCodes.Status400BadRequest, $"Query parameter '{name}' must be true or false; got '{text}'."),
    };

    private static DateTimeOffset? Time(HttpRequest request, string name)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : throw new ApiRequestException(StatusCodes.Status400BadRequest, $"Query parameter '{name}' must be an ISO 8601 time such as 2026-11-26T18:00:00Z; got '{text}'.");
    }
}
