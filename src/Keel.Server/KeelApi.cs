using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Keel.Server;

/// <summary>
/// The Keel HTTP API: every operation of <see cref="KeelClient"/> as JSON over HTTP. Map it into any ASP.NET Core app
/// that has a <see cref="KeelClient"/> in its services (<c>AddKeel</c> registers one), or run <c>keel serve</c>.
/// </summary>
public static class KeelApi
{
    /// <summary>Maps the API under <paramref name="prefix"/>.</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="prefix">The path prefix, <c>/api</c> by default.</param>
    /// <param name="apiKey">When set, every call must carry <c>Authorization: Bearer KEY</c> (or <c>X-Keel-Api-Key: KEY</c>).</param>
    /// <returns>The route group, for further conventions (authorization policies, CORS, rate limits).</returns>
    /// <remarks>
    /// Routes (bodies and results are JSON; a run's input and result, journal payloads and approval arguments are JSON
    /// values, <see cref="KeelJson.PayloadsAsValues"/>; the OpenAPI document of <c>keel serve</c> describes each):
    /// <c>GET runs</c> (query: <c>status</c>, <c>workflow</c>, <c>createdAfter</c>, <c>createdBefore</c>, <c>limit</c>, <c>cursor</c>),
    /// <c>POST runs</c>, <c>GET runs/{id}</c>, <c>GET runs/{id}/journal</c>, <c>GET runs/{id}/history</c> (the run's
    /// <see cref="RunHistory"/>, with <c>next</c>: the calls that act on it), <c>GET runs/{id}/handoff</c> (the run handed to a
    /// person: <see cref="RunHandoff"/>, each next action with its call), <c>GET runs/{id}/wait?timeout=SECONDS</c>,
    /// <c>POST runs/{id}/cancel|pause|resume|unblock|priority|resolve</c>, <c>POST runs/{id}/signals/{name}</c> (body: the payload),
    /// <c>GET approvals</c>, <c>POST runs/{id}/approvals</c>, <c>POST runs/{id}/approvals/links</c> (a signed, single-use
    /// link for a reviewer without a key, answered through <c>POST approval-links/read|decide</c>; see
    /// <see cref="KeelApprovalLinkOptions"/>), <c>GET workers?days=N</c> (each with <c>alive</c>), <c>GET counts</c> (runs per status, with
    /// the filters of <c>GET runs</c>), <c>GET inbox</c>, <c>GET me</c>,
    /// and server-sent events: <c>GET runs/{id}/events</c> (new journal entries) and <c>GET events</c> (a list's runs as
    /// they change). Run ids follow <see cref="RunIds.Rule"/>. Errors are problem
    /// responses (RFC 9457) whose <c>detail</c> says what was wrong and what to do: 400 bad input (an invalid run id
    /// too), 401 missing key, 404 no such run, 409 the run's state does not allow it (finished, not paused, no approval
    /// pending), 413 body over 1 MB or a value over <see cref="KeelOptions.Limits"/>, 415 a body not sent as <c>application/json</c> (or <c>application/*+json</c>,
    /// UTF-8), 503 the store is unavailable.
    /// </remarks>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027",
        Justification = "The one-key overload shipped first; its optional parameters keep its calls working, and the keys overload takes none.")]
    public static RouteGroupBuilder MapKeelApi(this IEndpointRouteBuilder endpoints, string prefix = "/api", string? apiKey = null) =>
        endpoints.MapKeelApi(prefix, string.IsNullOrEmpty(apiKey) ? [] : [KeelApiKey.SharedKey(apiKey)]);

    /// <summary>
    /// Maps the API under <paramref name="prefix"/>, open to the holders of <paramref name="apiKeys"/>: a viewer's key
    /// reads, an approver's also decides approvals and resolutions, an operator's does everything (403 otherwise). What a
    /// key does is journaled with its name as who did it, whatever a body's <c>by</c> says.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="prefix">The path prefix, e.g. <c>/api</c>.</param>
    /// <param name="apiKeys">The keys; none for an API open to anyone who reaches it (then a body's <c>by</c> is who acted).</param>
    /// <returns>The route group, for further conventions.</returns>
    /// <exception cref="ArgumentException">A key has no name, a short secret, or shares its secret with another.</exception>
    public static RouteGroupBuilder MapKeelApi(this IEndpointRouteBuilder endpoints, string prefix, IReadOnlyList<KeelApiKey> apiKeys)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(apiKeys);
        foreach (var key in apiKeys)
        {
            key.Validate();
        }
        if (apiKeys.GroupBy(k => k.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } shared)
        {
            throw new ArgumentException($"The keys of {string.Join(" and ", shared.Select(k => $"'{k.Name}'"))} are the same secret: give each its own.");
        }
        var api = endpoints.MapGroup(prefix);
        if (apiKeys.Count > 0)
        {
            api.AddEndpointFilter(new ApiKeyFilter(apiKeys));
        }
        api.AddEndpointFilterFactory((context, next) =>
        {
            var errors = ActivatorUtilities.CreateInstance<ApiErrors>(context.ApplicationServices);
            return invocation => errors.InvokeAsync(invocation, next);
        });

        api.WithTags("Keel");
        api.MapGet("/runs", RunEndpoints.ListAsync).Needs(KeelApiRole.Viewer).Describe<RunPage>("List runs, newest first, with filters and paging");
        api.MapPost("/runs", RunEndpoints.StartAsync).Needs(KeelApiRole.Operator).Takes<StartRunRequest>()
            .Describe<StartResult>("Start a run (idempotent by runId: 201 created, 200 existing)", StatusCodes.Status201Created);
        api.MapGet("/runs/{runId}", RunEndpoints.GetAsync).Needs(KeelApiRole.Viewer).Describe<RunInfo>("A run as it is now");
        api.MapGet("/runs/{runId}/journal", RunEndpoints.JournalAsync).Needs(KeelApiRole.Viewer).Describe<IReadOnlyList<JournalEntry>>("A run's journal, oldest entry first");
        api.MapGet("/runs/{runId}/history", RunEndpoints.HistoryAsync).Needs(KeelApiRole.Viewer).Describe<RunHistory>("A run read from its journal, with the calls that act on what it waits for (next)");
        api.MapGet("/runs/{runId}/handoff", RunEndpoints.HandoffAsync).Needs(KeelApiRole.Viewer).Describe<RunHandoff>("A run handed to a person: goal, state, ran, decided, failed, remains, next");
        api.MapGet("/runs/{runId}/wait", RunEndpoints.WaitAsync).Needs(KeelApiRole.Viewer).Describe<RunInfo>("Long poll: the run once it ended (200), or as it is when the timeout passes (202)");
        api.MapPost("/runs/{runId}/cancel", ControlEndpoints.CancelAsync).Needs(KeelApiRole.Operator).Takes<CancelRunRequest>(optional: true).Describe<RunInfo>("Cancel a run, or ask its worker to", StatusCodes.Status202Accepted);
        api.MapPost("/runs/{runId}/pause", ControlEndpoints.PauseAsync).Needs(KeelApiRole.Operator).Takes<RunActionRequest>(optional: true).Describe<RunInfo>("Pause a run (200 paused now, 202 before its next operation)");
        api.MapPost("/runs/{runId}/resume", ControlEndpoints.ResumeAsync).Needs(KeelApiRole.Operator).Takes<RunActionRequest>(optional: true).Describe<RunInfo>("Resume a paused run");
        api.MapPost("/runs/{runId}/unblock", ControlEndpoints.UnblockAsync).Needs(KeelApiRole.Operator).Takes<UnblockRunRequest>(optional: true).Describe<RunInfo>("Unblock a Blocked run");
        api.MapPost("/runs/{runId}/retry", ControlEndpoints.RetryAsync).Needs(KeelApiRole.Operator).Takes<RetryRunRequest>(optional: true).Describe<RunInfo>("Retry a Failed run from the step that failed");
        api.MapPost("/runs/{runId}/fork", ControlEndpoints.ForkAsync).Needs(KeelApiRole.Operator).Takes<ForkRunRequest>().Describe<RunInfo>("Fork a run at a position", StatusCodes.Status201Created);
        api.MapGet("/workers", ControlEndpoints.WorkersAsync).Needs(KeelApiRole.Viewer).Describe<IReadOnlyList<WorkerInfo>>("The workers registered in the store");
        api.MapPost("/runs/{runId}/priority", ControlEndpoints.SetPriorityAsync).Needs(KeelApiRole.Operator).Takes<SetPriorityRequest>().Describe<RunInfo>("Change a run's priority");
        api.MapPost("/runs/{runId}/signals/{name}", ControlEndpoints.SignalAsync).Needs(KeelApiRole.Operator)
            .Describe<SignalStored>("Send a signal; the body is its payload (any JSON, or none)", StatusCodes.Status202Accepted);
        api.MapPost("/runs/{runId}/resolve", ControlEndpoints.ResolveAsync).Needs(KeelApiRole.Approver).Takes<ResolveStepRequest>()
            .Describe<StepResolved>("Decide a step whose outcome is unknown: retry, complete or fail", StatusCodes.Status202Accepted);
        api.MapGet("/approvals", ApprovalEndpoints.ListAsync).Needs(KeelApiRole.Viewer).Describe<IReadOnlyList<PendingApproval>>("Approvals waiting for a person, oldest first");
        api.MapPost("/runs/{runId}/approvals", ApprovalEndpoints.DecideAsync).Needs(KeelApiRole.Approver).Takes<DecideApprovalRequest>()
            .Describe<ApprovalDecided>("Approve or reject an approval a run waits for", StatusCodes.Status202Accepted);
        api.MapGet("/runs/{runId}/events", LiveEndpoints.RunAsync).Needs(KeelApiRole.Viewer)
            .DescribeStream("Server-sent events: the run's new journal entries (entries, id = entries sent; resume with Last-Event-ID) and the run when it changes (run)");
        api.MapGet("/events", LiveEndpoints.List).Needs(KeelApiRole.Viewer)
            .DescribeStream("Server-sent events: the runs of a list (the filters of GET runs) as they change (run, removed), and the inbox counts (counts)");
        api.MapGet("/counts", RunEndpoints.CountAsync).Needs(KeelApiRole.Viewer)
            .Describe<IReadOnlyDictionary<RunStatus, int>>("How many runs are in each status, with the filters of GET runs");
        api.MapGet("/inbox", InboxEndpoints.GetAsync).Needs(KeelApiRole.Viewer).Describe<Inbox>("What waits for a person: approvals, runs needing a decision, blocked runs, runs failed in the last day");
        api.MapGet("/me", InboxEndpoints.Me).Needs(KeelApiRole.Viewer).Describe<Caller>("The key of this call: its name and role");
        var options = endpoints.ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<KeelApprovalLinkOptions>>()?.Value ?? new KeelApprovalLinkOptions();
        var links = new ApprovalLinks(options);
        api.MapPost("/runs/{runId}/approvals/links", (string runId, HttpRequest request, KeelClient keel, CancellationToken cancellationToken) =>
                ApprovalEndpoints.MakeLinkAsync(runId, request, keel, links, cancellationToken))
            .Needs(KeelApiRole.Approver).Takes<ApprovalLinkRequest>()
            .Describe<ApprovalLinkMade>("A signed, expiring, single-use link to the approval for a reviewer without a key", StatusCodes.Status201Created);
        // The token is the authorization of these two: a reviewer with a link has no key.
        api.MapPost("/approval-links/read", (HttpRequest request, KeelClient keel, CancellationToken cancellationToken) =>
                ApprovalEndpoints.ReadLinkAsync(request, keel, links, cancellationToken))
            .WithMetadata(KeyNotRequired.Instance).Takes<ApprovalLinkToken>()
            .Describe<ApprovalLinkView>("The approval an approval link answers (410 expired, 403 altered, 409 used)");
        api.MapPost("/approval-links/decide", (HttpRequest request, KeelClient keel, CancellationToken cancellationToken) =>
                ApprovalEndpoints.DecideLinkAsync(request, keel, links, cancellationToken))
            .WithMetadata(KeyNotRequired.Instance).Takes<ApprovalLinkDecision>()
            .Describe<ApprovalDecided>("Decide the approval an approval link answers, once", StatusCodes.Status202Accepted);
        return api;
    }

    /// <summary>The role a key needs for the call.</summary>
    private static RouteHandlerBuilder Needs(this RouteHandlerBuilder route, KeelApiRole role) => route.WithMetadata(new RequiredRole(role));

    /// <summary>Who acts in this call, for the run's record: the name of the named API key shown (a body's
    /// <paramref name="by"/> cannot speak for someone else); with one shared key, or none, what the body says.</summary>
    internal static string? Who(HttpContext context, string? by) =>
        context.Items[typeof(KeelApiKey)] is KeelApiKey { Shared: false } key ? key.Name : by;

    /// <summary>What a call answers and takes, for OpenAPI documents: its summary, its success, and its problems.</summary>
    private static RouteHandlerBuilder Describe<T>(this RouteHandlerBuilder route, string summary, int status = StatusCodes.Status200OK) =>
        route.WithSummary(summary).Produces<T>(status)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>A call that answers with a stream of server-sent events (<c>text/event-stream</c>), each event's data JSON.</summary>
    private static RouteHandlerBuilder DescribeStream(this RouteHandlerBuilder route, string summary) =>
        route.WithSummary(summary).Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>The body a call takes, for OpenAPI documents only: <c>Accepts</c> metadata would also make routing refuse
    /// other content types with a bare 415, before the API can say what was wrong.</summary>
    private static RouteHandlerBuilder Takes<T>(this RouteHandlerBuilder route, bool optional = false) where T : notnull =>
        route.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = !optional,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken) },
                },
            });

    /// <summary>
    /// A route value as the caller meant it. Kestrel decodes a request's path except for <c>%2F</c>, which it leaves
    /// encoded so that it cannot split a segment; routing then hands that on as it is (<c>a%2Fb</c>). Only that escape
    /// is decoded here: decoding every escape again would turn <c>%2541</c> (sent for <c>%41</c>) into <c>A</c>.
    /// </summary>
    internal static string RouteValue(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>The run id of a route, decoded, and refused (400) before anything else when it breaks <see cref="RunIds.Rule"/>.</summary>
    internal static string RunId(string routeValue)
    {
        var runId = RouteValue(routeValue);
        RunIds.ValidateExisting(runId, "runId");
        return runId;
    }

    /// <summary>The path of the run a request under <c>runs/{id}</c> is about (<c>/api/runs/ID</c>, with the app's path
    /// base), for the calls an answer suggests next.</summary>
    internal static string RunPath(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        var runs = path.IndexOf("/runs/", StringComparison.Ordinal);
        if (runs < 0)
        {
            return request.PathBase + path;
        }
        var end = path.IndexOf('/', runs + "/runs/".Length);
        return request.PathBase + (end < 0 ? path : path[..end]);
    }

    /// <summary>Parses an integer query value, or refuses it clearly.</summary>
    internal static int IntQuery(HttpRequest request, string name, int defaultValue, int min, int max)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return defaultValue;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ApiRequestException(StatusCodes.Status400BadRequest, $"Query parameter '{name}' must be a whole number from {min} to {max}; got '{text}'.");
        }
        return value;
    }
}
