namespace Keel.Server.Tests;

/// <summary><c>/healthz</c> (<see cref="KeelHealthChecks"/>) over real HTTP: healthy with a live worker, degraded without
/// one (runs wait), unhealthy with 503 when the store does not answer.</summary>
public class HealthTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Healthz_SaysWhetherTheStoreAnswers_AndAWorkerIsAlive_WithoutAnApiKey(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register, apiKey: "health-test-key-0123456789");

        var (status, health) = await h.GetAsync("healthz");
        Assert.Equal(200, status);
        Assert.Equal("Healthy", health.Str("status"));
        var workers = health.GetProperty("checks").GetProperty("keel-workers");
        Assert.Equal("Healthy", workers.Str("status"));
        Assert.Contains("1 live worker(s)", workers.Str("description"), StringComparison.Ordinal);
        Assert.Contains("greet", workers.Str("description"), StringComparison.Ordinal);
        Assert.Equal(401, (await h.GetAsync("api/runs")).Status); // the API still needs the key

        await h.StopWorkerAsync(h.Worker); // a clean stop: the registry says so at once
        (status, health) = await h.GetAsync("healthz");
        Assert.Equal(200, status);
        Assert.Equal(("Degraded", "Degraded", "Healthy"), (health.Str("status"),
            health.GetProperty("checks").GetProperty("keel-workers").Str("status"), health.GetProperty("checks").GetProperty("keel-store").Str("status")));
        Assert.Contains("runs wait", health.GetProperty("checks").GetProperty("keel-workers").Str("description"), StringComparison.Ordinal);

        await h.BreakStoreAsync();
        (status, health) = await h.GetAsync("healthz");
        Assert.Equal(503, status);
        Assert.Equal("Unhealthy", health.Str("status"));
        var store = health.GetProperty("checks").GetProperty("keel-store");
        Assert.Equal("Unhealthy", store.Str("status"));
        Assert.StartsWith("The store does not answer", store.Str("description"), StringComparison.Ordinal);
    }
}
