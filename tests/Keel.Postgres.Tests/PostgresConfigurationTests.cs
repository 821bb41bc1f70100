using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.Postgres.Tests;

public sealed class PostgresConfigurationTests : IAsyncDisposable
{
    private readonly TestDatabase _db = new();

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task UsePostgres_TakesTheConnectionStringFromConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Keel"] = _db.ConnectionString })
            .Build();
        await using var keel = await KeelHost.StartAsync(
            k => k.UsePostgres(o => o.Schema = _db.Schema).AddWorkflow<int, int>("inc", (_, n) => Task.FromResult(n + 1)),
            services => services.AddSingleton<IConfiguration>(configuration),
            TestContext.Current.CancellationToken);
        var run = await keel.Client.StartAsync("inc", 1, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, await keel.Client.GetResultAsync<int>(run.RunId, TestContext.Current.CancellationToken));
        Assert.Equal(_db.Schema, ((PostgresWorkflowStore)keel.Store).Schema);
    }

    [Fact]
    public async Task UsePostgres_ReadsItsOptionsAndKeelsFromTheKeelSection()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Keel"] = _db.ConnectionString,
                ["Keel:Postgres:Schema"] = _db.Schema,
                ["Keel:Postgres:AppendWriters"] = "3",
                ["Keel:MaxConcurrentRuns"] = "7",
                ["Keel:BuildId"] = "from-config",
            })
            .Build();
        await using var keel = await KeelHost.StartAsync(
            k => k.BindConfiguration().UsePostgres().AddWorkflow<int, int>("inc", (_, n) => Task.FromResult(n + 1)),
            services => services.AddSingleton<IConfiguration>(configuration),
            TestContext.Current.CancellationToken);
        var run = await keel.Client.StartAsync("inc", 1, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, await keel.Client.GetResultAsync<int>(run.RunId, TestContext.Current.CancellationToken));
        Assert.Equal(_db.Schema, ((PostgresWorkflowStore)keel.Store).Schema);
        Assert.Equal("from-config", (await keel.Client.GetRunAsync(run.RunId, TestContext.Current.CancellationToken))!.BuildId);
    }
}
