using System.Text.Json;

namespace Keel.Cli.Tests.Commands;

public class StartCommandTests
{
    [Fact]
    public async Task Start_CreatesARunThatAWorkerCompletes_IsIdempotentById_AndRefusesAnUnknownWorkflowOrBadJson()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "earlier"); // a worker of 'add' has registered itself

        var started = await Cli.RunAsync("start", TestRuns.Add, "5", "--run-id", "from-cli", "--priority", "3", "--json", "--db", dir.DatabasePath);
        Assert.True(started.ExitCode == 0, started.ToString());
        using (var json = JsonDocument.Parse(started.Out))
        {
            Assert.Equal("from-cli", json.RootElement.GetProperty("runId").GetString());
            Assert.True(json.RootElement.GetProperty("created").GetBoolean());
            Assert.Equal(3, json.RootElement.GetProperty("run").GetProperty("priority").GetInt32());
            Assert.Equal(5, json.RootElement.GetProperty("run").GetProperty("input").GetInt32()); // a JSON value, not an escaped string
        }
        var again = await Cli.RunAsync("start", TestRuns.Add, "5", "--run-id", "from-cli", "--db", dir.DatabasePath);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("exists already", again.Out, StringComparison.Ordinal);

        // A worker takes the started run like any other.
        await using (var keel = await TestRuns.StartHostAsync(dir.DatabasePath))
        {
            Assert.Equal(RunStatus.Completed, (await keel.Client.WaitForCompletionAsync("from-cli", TestContext.Current.CancellationToken)).Status);
        }

        var unknown = await Cli.RunAsync("start", "no-such-workflow", "--db", dir.DatabasePath);
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("no-such-workflow", unknown.Err, StringComparison.Ordinal);
        var malformed = await Cli.RunAsync("start", TestRuns.Add, "{oops", "--db", dir.DatabasePath);
        Assert.Equal(2, malformed.ExitCode);
    }
}
