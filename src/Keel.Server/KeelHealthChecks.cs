using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Keel.Server;

/// <summary>
/// Keel's ASP.NET Core health checks: <c>keel-store</c> (the store answers: Unhealthy when it does not) and
/// <c>keel-workers</c> (a worker alive by <see cref="WorkerInfo.IsAliveAt"/>: Degraded when none is, since runs then wait). They read
/// through the <see cref="KeelClient"/> registered in the app's services (<c>AddKeel</c>, or the one <c>keel serve</c>
/// serves).
/// </summary>
public static class KeelHealthChecks
{
    /// <summary>The tag both checks carry, to select them (<see cref="HealthCheckOptions.Predicate"/>).</summary>
    public const string Tag = "keel";

    /// <summary>Adds the checks <c>keel-store</c> and <c>keel-workers</c> to the app's health checks.</summary>
    /// <param name="services">The app's services.</param>
    /// <returns>The health checks builder, to add more.</returns>
    public static IHealthChecksBuilder AddKeelHealthChecks(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("keel-store", HealthStatus.Unhealthy, [Tag])
            .AddCheck<WorkersHealthCheck>("keel-workers", HealthStatus.Degraded, [Tag]);
    }

    /// <summary>
    /// Maps the checks at <paramref name="pattern"/>, answered as JSON (<c>{"status","checks":{name:{"status",
    /// "description","durationMs"}}}</c>): 200 when Healthy or Degraded, 503 when Unhealthy. No API key: probes and load
    /// balancers call it, and it tells nothing about runs.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pattern">The path.</param>
    /// <returns>The endpoint, to configure further.</returns>
    public static IEndpointConventionBuilder MapKeelHealthChecks(this IEndpointRouteBuilder endpoints, string pattern = "/healthz")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapHealthChecks(pattern, new HealthCheckOptions { ResponseWriter = WriteAsync });
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new Dictionary<string, object?>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => new Dictionary<string, object?>
            {
                ["status"] = e.Value.Status.ToString(),
                ["description"] = e.Value.Description ?? e.Value.Exception?.Message,
                ["durationMs"] = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, HealthJson.Default.DictionaryStringObject), context.RequestAborted);
    }

    /// <summary>The store answers a read (reachable, and its schema readable by this Keel).</summary>
    private sealed class StoreHealthCheck(KeelClient client) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await client.ListRunsAsync(new RunQuery { Limit = 1 }, cancellationToken);
                return HealthCheckResult.Healthy("The store answers.");
            }
            catch (Exception ex) when (IsUnavailable(ex))
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"The store does not answer: {ex.Message}", ex);
            }
        }
    }

    /// <summary>What a store that does not answer throws (anything else is a bug, for the health check service to report).</summary>
    private static bool IsUnavailable(Exception ex) =>
        ex is StorageException or System.Data.Common.DbException or InvalidOperationException or IOException or TimeoutException;

    /// <summary>A worker is alive (<see cref="WorkerInfo.IsAliveAt"/>).</summary>
    private sealed class WorkersHealthCheck(KeelClient client, TimeProvider? time = null) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<WorkerInfo> workers;
            try
            {
                workers = await client.ListWorkersAsync(WorkerInfo.SilenceLimit, cancellationToken);
            }
            catch (Exception ex) when (IsUnavailable(ex))
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"The workers cannot be read: {ex.Message}", ex);
            }
            var now = (time ?? TimeProvider.System).GetUtcNow();
            var alive = workers.Where(w => w.IsAliveAt(now)).ToList();
            return alive.Count > 0
                ? HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture,
                    $"{alive.Count} live worker(s), holding {alive.Sum(w => w.RunsHeld)} run(s); they serve {string.Join(", ", alive.SelectMany(w => w.Workflows).Distinct().Order(StringComparer.Ordinal))}."))
                : new HealthCheckResult(context.Registration.FailureStatus,
                    $"No worker said it was alive in the last {WorkerInfo.SilenceLimit.TotalSeconds:0} s: runs wait until one runs.");
        }
    }
}

/// <summary>The health answer's JSON, described at compile time.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, Dictionary<string, object?>>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
