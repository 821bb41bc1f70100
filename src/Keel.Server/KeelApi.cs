using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

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
    /// Routes (bodies and results are JSON; inputs, results and payloads of runs are JSON text, as in <see cref="RunInfo"/>):
    /// <c>GET runs</c> (query: <c>status</c>, <c>workflow</c>, <c>createdAfter</c>, <c>createdBefore</c>, <c>limit</c>, <c>cursor</c>),
    /// <c>POST runs</c>, <c>GET runs/{id}</c>, <c>GET runs/{id}/journal</c>, <c>GET runs/{id}/history</c> (the run's
    /// <see cref="RunHistory"/>, with <c>next</c>: the calls that act on it), <c>GET runs/{id}/handoff</c> (the run handed to a
    /// person: <see cref="RunHandoff"/>, each next action with its call), <c>GET runs/{id}/wait?timeout=SECONDS</c>,
    /// <c>POST runs/{id}/cancel|pause|resume|unblock|priority|resolve</c>, <c>POST runs/{id}/signals/{name}</c> (body: the payload),
    /// <c>GET approvals</c>, <c>POST runs/{id}/approvals</c>, <c>GET workers?days=N</c>. Run ids follow <see cref="RunIds.Rule"/>. Errors are problem
    /// responses (RFC 9457) whose <c>detail</c> says what was wrong and what to do: 400 bad input (an invalid run id
    /// too), 401 missing key, 404 no such run, 409 the run's state does not allow it (finished, not paused, no approval
    /// pending), 413 body over 1 MB or a value over <see cref="KeelOptions.Limits"/>, 415 a body not sent as <c>application/json</c> (or <c>application/*+json</c>,
    /// UTF-8), 503 the store is unavailable.
    /// </remarks>
    public static RouteGroupBuilder MapKeelApi(this IEndpointRouteBuilder endpoints, string prefix = "/api", string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(prefix);
        if (!string.IsNullOrEmpty(apiKey))
        {
            api.AddEndpointFilter(new ApiKeyFilter(apiKey));
        }
        api.AddEndpointFilterFactory((context, next) =>
        {
            var errors = ActivatorUtilities.CreateInstance<ApiErrors>(context.ApplicationServices);
            return invocation => errors.InvokeAsync(invocation, next);
        });

        api.MapGet("/runs", RunEndpoints.ListAsync);
        api.MapPost("/runs", RunEndpoints.StartAsync);
        api.MapGet("/runs/{runId}", RunEndpoints.GetAsync);
        api.MapGet("/runs/{runId}/journal", RunEndpoints.JournalAsync);
        api.MapGet("/runs/{runId}/history", RunEndpoints.HistoryAsync);
        api.MapGet("/runs/{runId}/handoff", RunEndpoints.HandoffAsync);
        api.MapGet("/runs/{runId}/wait", RunEndpoints.WaitAsync);
        api.MapPost("/runs/{runId}/cancel", ControlEndpoints.CancelAsync);
        api.MapPost("/runs/{runId}/pause", ControlEndpoints.PauseAsync);
        api.MapPost("/runs/{runId}/resume", ControlEndpoints.ResumeAsync);
        api.MapPost("/runs/{runId}/unblock", ControlEndpoints.UnblockAsync);
        api.MapPost("/runs/{runId}/retry", ControlEndpoints.RetryAsync);
        api.MapPost("/runs/{runId}/fork", ControlEndpoints.ForkAsync);
        api.MapGet("/workers", ControlEndpoints.WorkersAsync);
        api.MapPost("/runs/{runId}/priority", ControlEndpoints.SetPriorityAsync);
        api.MapPost("/runs/{runId}/signals/{name}", ControlEndpoints.SignalAsync);
        api.MapPost("/runs/{runId}/resolve", ControlEndpoints.ResolveAsync);
        api.MapGet("/approvals", ApprovalEndpoints.ListAsync);
        api.MapPost("/runs/{runId}/approvals", ApprovalEndpoints.DecideAsync);
        return api;
    }

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
