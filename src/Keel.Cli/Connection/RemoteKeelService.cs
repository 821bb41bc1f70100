using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keel.Cli.Connection;

/// <summary>
/// The commands through a <c>keel serve</c>'s HTTP API. Answers are read into the library's own records (the API writes
/// them with <see cref="KeelJson.PayloadsAsValues"/>); a refusal becomes the exit code the same refusal has locally, with
/// the server's sentence.
/// </summary>
internal sealed class RemoteKeelService : IKeelService
{
    private const string ApiKeyHeader = "X-Keel-Api-Key";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(100);
    private static readonly JsonSerializerOptions s_json = new(KeelJson.PayloadsAsValues);

    private readonly HttpClient _http;
    private readonly Uri _address;

    public RemoteKeelService(Uri address, string? apiKey, string arguments, HttpMessageHandler? handler = null)
    {
        _address = address;
        Arguments = arguments;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = new Uri(address.AbsoluteUri.TrimEnd('/') + "/api/"),
            Timeout = CallTimeout,
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (apiKey is { Length: > 0 })
        {
            _http.DefaultRequestHeaders.Add(ApiKeyHeader, apiKey);
        }
    }

    public string Arguments { get; }

    public async Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, Run(runId), null, cancellationToken, missingRunIsNull: true);
        return answer is null ? null : Read<RunInfo>(answer);
    }

    public async Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken) =>
        Read<List<JournalEntry>>((await SendAsync(HttpMethod.Get, Run(runId) + "/journal", null, cancellationToken))!);

    public async Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        var parameters = new List<string> { "limit=" + query.Limit.ToString(CultureInfo.InvariantCulture) };
        if (query.Statuses.Count > 0)
        {
            parameters.Add("status=" + string.Join(',', query.Statuses));
        }
        Add(parameters, "workflow", query.WorkflowName);
        Add(parameters, "waitingForPerson", query.WaitingForPerson ? "true" : null);
        Add(parameters, "createdAfter", query.CreatedAfter?.ToString("O", CultureInfo.InvariantCulture));
        Add(parameters, "createdBefore", query.CreatedBefore?.ToString("O", CultureInfo.InvariantCulture));
        Add(parameters, "cursor", query.Cursor);
        return Read<RunPage>((await SendAsync(HttpMethod.Get, "runs?" + string.Join('&', parameters), null, cancellationToken))!);
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(TimeSpan seenWithin, CancellationToken cancellationToken) =>
        Read<List<WorkerInfo>>((await SendAsync(HttpMethod.Get,
            "workers?days=" + seenWithin.TotalDays.ToString("R", CultureInfo.InvariantCulture), null, cancellationToken))!);

    public async Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken)
    {
        var parameters = new List<string> { "limit=" + limit.ToString(CultureInfo.InvariantCulture) };
        Add(parameters, "runId", runId);
        return Read<List<PendingApproval>>((await SendAsync(HttpMethod.Get, "approvals?" + string.Join('&', parameters), null, cancellationToken))!);
    }

    public async Task<StartResult> StartAsync(string workflow, string inputJson, StartWorkflowOptions options, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["workflow"] = workflow, ["input"] = JsonNode.Parse(inputJson), ["runId"] = options.RunId, ["priority"] = options.Priority,
            ["allowUnknownWorkflow"] = options.AllowUnknownWorkflow,
        };
        return Read<StartResult>((await SendAsync(HttpMethod.Post, "runs", body, cancellationToken))!);
    }

    public Task CancelAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Run(runId) + "/cancel", Who(actor), cancellationToken);

    public async Task<bool> PauseAsync(string runId, Actor actor, CancellationToken cancellationToken)
    {
        var run = Read<RunInfo>((await SendAsync(HttpMethod.Post, Run(runId) + "/pause", Who(actor), cancellationToken))!);
        return run.Status == RunStatus.Paused;
    }

    public Task ResumeAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Run(runId) + "/resume", Who(actor), cancellationToken);

    public async Task<RunInfo> SetPriorityAsync(string runId, int priority, Actor actor, CancellationToken cancellationToken)
    {
        var body = Who(actor);
        body["priority"] = priority;
        return Read<RunInfo>((await SendAsync(HttpMethod.Post, Run(runId) + "/priority", body, cancellationToken))!);
    }

    public Task UnblockAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Run(runId) + "/unblock", Who(actor), cancellationToken);

    public Task RetryAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Run(runId) + "/retry", Who(actor), cancellationToken);

    public async Task<StartResult> ForkAsync(string runId, ForkOptions options, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["at"] = options.AtPosition, ["replaceResult"] = Parse(options.ReplaceResultJson), ["input"] = Parse(options.InputJson),
            ["runId"] = options.RunId, ["by"] = options.By, ["reason"] = options.Reason,
        };
        var fork = Read<RunInfo>((await SendAsync(HttpMethod.Post, Run(runId) + "/fork", body, cancellationToken))!);
        return new StartResult(fork.RunId, true, fork);
    }

    public Task SignalAsync(string runId, string name, string? payloadJson, Actor actor, CancellationToken cancellationToken)
    {
        var who = new List<string>();
        Add(who, "by", actor.By);
        Add(who, "reason", actor.Reason);
        var path = Run(runId) + "/signals/" + Uri.EscapeDataString(name) + (who.Count > 0 ? "?" + string.Join('&', who) : "");
        return SendAsync(HttpMethod.Post, path, Parse(payloadJson), cancellationToken);
    }

    public async Task<string> ResolveAsync(string runId, StepResolution resolution, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["action"] = resolution.Action, ["result"] = Parse(resolution.ResultJson), ["reason"] = resolution.Reason, ["by"] = resolution.By,
        };
        var answer = await SendAsync(HttpMethod.Post, Run(runId) + "/resolve", body, cancellationToken);
        return answer!.RootElement.GetProperty("step").GetString()!;
    }

    public async Task<PendingApproval> DecideApprovalAsync(string runId, ApprovalResponse response, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["approved"] = response.Approved, ["by"] = response.By, ["comment"] = response.Comment, ["arguments"] = Parse(response.ArgumentsJson),
            ["option"] = response.Option, ["name"] = response.ApprovalName,
        };
        var answer = await SendAsync(HttpMethod.Post, Run(runId) + "/approvals", body, cancellationToken);
        return answer!.RootElement.GetProperty("approval").Deserialize<PendingApproval>(s_json)!;
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string Run(string runId) => "runs/" + Uri.EscapeDataString(runId);

    private static JsonObject Who(Actor actor) => new() { ["by"] = actor.By, ["reason"] = actor.Reason };

    private static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);

    private static void Add(List<string> parameters, string name, string? value)
    {
        if (value is not null)
        {
            parameters.Add(name + "=" + Uri.EscapeDataString(value));
        }
    }

    private static T Read<T>(JsonDocument answer)
    {
        using (answer)
        {
            return answer.RootElement.Deserialize<T>(s_json) ?? throw new CliException($"The server answered null where a {typeof(T).Name} was expected.", ExitCodes.Failure);
        }
    }

    /// <summary>Sends one call; the answer's JSON, or null for a run the server does not know when <paramref name="missingRunIsNull"/>.</summary>
    private async Task<JsonDocument?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken,
        bool missingRunIsNull = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null || method == HttpMethod.Post)
        {
            request.Content = new StringContent(body?.ToJsonString() ?? "", Encoding.UTF8, "application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach keel serve at {_address}: {ex.Message} Is it running, and is --address right?", ExitCodes.StoreUnavailable);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"keel serve at {_address} did not answer {method} {path} in time.", ExitCodes.StoreUnavailable, ex);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return JsonDocument.Parse(text.Length == 0 ? "null" : text);
            }
            var (error, detail) = Problem(text);
            if (missingRunIsNull && response.StatusCode == HttpStatusCode.NotFound && error == "RunNotFound")
            {
                return null;
            }
            throw Refusal(response.StatusCode, error, detail ?? $"{method} {path} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }

    /// <summary>An RFC 9457 problem's <c>error</c> and <c>detail</c>; nulls for a body that is not one.</summary>
    private static (string? Error, string? Detail) Problem(string text)
    {
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            return root.ValueKind != JsonValueKind.Object ? default
                : (root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null,
                   root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>The exit code the same refusal has on a local database (<see cref="ExitCodes"/>).</summary>
    private CliException Refusal(HttpStatusCode status, string? error, string detail) => (int)status switch
    {
        401 => new CliException($"keel serve at {_address} refused the call: {detail} (give --api-key KEY or set KEEL_API_KEY)", ExitCodes.StoreUnavailable),
        403 => new CliException(detail, ExitCodes.NotAllowed), // the key's role does not allow it
        404 when error is null => new CliException($"{detail} (is {_address} a keel serve?)", ExitCodes.NotFound),
        404 => new CliException(detail, ExitCodes.NotFound),
        409 => new CliException(detail, ExitCodes.NotAllowed),
        400 or 413 or 415 or 422 => new CliException(detail, ExitCodes.BadInput),
        503 => new CliException(detail, ExitCodes.StoreUnavailable),
        _ => new CliException($"keel serve at {_address} failed: {detail}", ExitCodes.Failure),
    };
}
