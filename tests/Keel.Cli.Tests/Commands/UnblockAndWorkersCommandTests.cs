using System.Text.Json;
using Keel.Storage;

namespace Keel.Cli.Tests.Commands;

public class UnblockAndWorkersCommandTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unblock_ABlockedRun_MakesItRunnableAndJournalsWhoAndWhy_WhileOtherStatesGetTheirExitCodes()
    {
        using var dir = new TempDirectory();
        await using (var store = new Sqlite.SqliteWorkflowStore(new Sqlite.SqliteStoreOptions { Path = dir.DatabasePath }))
        {
            var now = DateTimeOffset.UtcNow;
            await store.CreateRunAsync(new NewRun { RunId = "stuck", WorkflowName = "w", Input = "{}", CreatedAt = now, Owner = "gone", LeaseExpiresAt = now.AddMinutes(1) }, Token);
            Assert.True(await store.AppendAsync(new RunLease("stuck", "gone", 1), [],
                RunUpdate.Finish(RunStatus.Blocked, now, reason: "quarantined"), Token));
        }

        var unblock = await Cli.RunAsync("unblock", "stuck", "--by", "ada", "--reason", "fixed the config", "--db", dir.DatabasePath);
        Assert.True(unblock.ExitCode == 0, unblock.ToString());
        Assert.Contains("Run stuck is unblocked", unblock.Out, StringComparison.Ordinal);
        var show = await Cli.RunAsync("show", "stuck", "--db", dir.DatabasePath);
        Assert.Matches(@"(?m)^Status\s+Pending$", show.Out);
        Assert.Contains("run unblocked by ada: fixed the config", show.Out, StringComparison.Ordinal);

        Assert.Equal(4, (await Cli.RunAsync("unblock", "stuck", "--db", dir.DatabasePath)).ExitCode); // not Blocked any more
        Assert.Equal(3, (await Cli.RunAsync("unblock", "nope", "--db", dir.DatabasePath)).ExitCode);
        Assert.Equal(2, (await Cli.RunAsync("unblock", "a/b", "--db", dir.DatabasePath)).ExitCode);
    }

    [Fact]
    public async Task Workers_ListsTheRegisteredWorkers_AliveOrStopped_AsTextAndJson()
    {
        using var dir = new TempDirectory();
        await using (var migrate = new Sqlite.SqliteWorkflowStore(new Sqlite.SqliteStoreOptions { Path = dir.DatabasePath }))
        {
            await migrate.InitializeAsync(Token);
        }
        var none = await Cli.RunAsync("workers", "--db", dir.DatabasePath);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains("No worker has registered", none.Out, StringComparison.Ordinal);

        await using (var keel = await KeelHost.StartAsync(k => k.UseSqlite(dir.DatabasePath).AddWorkflow<int, int>("double", (_, n) => Task.FromResult(n * 2))
            .Configure(o => o.BuildId = "build-7"), cancellationToken: Token))
        {
            var alive = await Cli.RunAsync("workers", "--db", dir.DatabasePath);
            Assert.True(alive.ExitCode == 0, alive.ToString());
            Assert.Matches(@"(?m)\balive\b.*build-7\s+double\s*$", alive.Out);
        }
        var json = await Cli.RunAsync("workers", "--json", "--db", dir.DatabasePath);
        using var document = JsonDocument.Parse(json.Out);
        var worker = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal("double", worker.GetProperty("workflows")[0].GetString());
        Assert.NotEqual(JsonValueKind.Null, worker.GetProperty("stoppedAt").ValueKind);
        Assert.Contains("stopped", (await Cli.RunAsync("workers", "--db", dir.DatabasePath)).Out, StringComparison.Ordinal);
        Assert.Equal(2, (await Cli.RunAsync("workers", "--days", "0", "--db", dir.DatabasePath)).ExitCode);
    }
}
