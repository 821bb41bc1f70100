using Keel.Sqlite;
using Keel.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Keel.Tests;

/// <summary>Keel's options and its SQLite store read from configuration (<c>BindConfiguration</c>, <c>UseSqlite()</c>).</summary>
public class ConfigurationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<KeelBuilder> keel)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddKeel(k =>
        {
            k.RunWorker = false;
            keel(k);
        });
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task TheKeelSection_SetsTheOptionsADeploymentChanges_AndCodeConfiguredAfterItWins()
    {
        using var dir = new TempDatabase();
        await using var provider = Build(new Dictionary<string, string?>
        {
            ["Keel:MaxConcurrentRuns"] = "50",
            ["Keel:LeaseDuration"] = "00:00:20",
            ["Keel:RetainFinishedRunsFor"] = "7.00:00:00",
            ["Keel:BuildId"] = "2026.12.1",
            ["Keel:ServesBuilds:0"] = "2026.11.9",
            ["Keel:ConcurrencyLimits:send-invoice"] = "4",
            ["Keel:Limits:MaxResultBytes"] = "1048576",
            ["Keel:Sqlite:Path"] = dir.Path,
            ["Keel:Sqlite:Durability"] = "Normal",
        }, k => k.BindConfiguration().UseSqlite().Configure(o => o.DrainTimeout = TimeSpan.FromSeconds(3)).Configure(o => o.MaxConcurrentRuns = 60));

        var options = provider.GetRequiredService<IOptions<KeelOptions>>().Value;
        Assert.Equal(60, options.MaxConcurrentRuns); // code after the section wins
        Assert.Equal(TimeSpan.FromSeconds(20), options.LeaseDuration);
        Assert.Equal(TimeSpan.FromDays(7), options.RetainFinishedRunsFor);
        Assert.Equal(TimeSpan.FromSeconds(3), options.DrainTimeout);
        Assert.Equal(("2026.12.1", "2026.11.9"), (options.BuildId, Assert.Single(options.ServesBuilds!)));
        Assert.Equal(4, options.ConcurrencyLimits["send-invoice"]);
        Assert.Equal(1048576, options.Limits.MaxResultBytes);
        Assert.Equal(new KeelOptions().PollInterval, options.PollInterval); // not in the section: the default
        var store = Assert.IsType<SqliteWorkflowStore>(provider.GetRequiredService<IWorkflowStore>());
        Assert.Equal(Path.GetFullPath(dir.Path), store.FilePath);
    }

    [Theory]
    [InlineData("Keel:MaxConcurentRuns", "50", "MaxConcurentRuns")] // a typo is an error, not a silent default
    [InlineData("Keel:MaxConcurrentRuns", "many", "many")]
    [InlineData("Keel:LeaseDuration", "20 seconds", "20 seconds")]
    public async Task AKeyOrValueThatDoesNotFit_IsAnErrorNamingIt(string key, string value, string named)
    {
        using var dir = new TempDatabase();
        await using var provider = Build(new Dictionary<string, string?> { [key] = value, ["Keel:Sqlite:Path"] = dir.Path },
            k => k.BindConfiguration().UseSqlite());
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<KeelOptions>>().Value);
        Assert.Contains("'Keel'", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseSqlite_WithoutAPathInConfiguration_SaysWhereToSetIt()
    {
        await using var provider = Build([], k => k.UseSqlite());
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IWorkflowStore>());
        Assert.Contains("Keel:Sqlite:Path", error.Message, StringComparison.Ordinal);
    }
}
