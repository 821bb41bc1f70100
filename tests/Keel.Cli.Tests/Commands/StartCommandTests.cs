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

        // --input takes the same forms as the argument (here stdin), and not both at once.
        var piped = await Cli.RunWithStdinAsync("7", "start", TestRuns.Add, "--input", "-", "--run-id", "piped", "--json", "--db", dir.DatabasePath);
        Assert.True(piped.ExitCode == 0, piped.ToString());
        using (var json = JsonDocument.Parse(piped.Out))
        {
            Assert.Equal(7, json.RootElement.GetProperty("run").GetProperty("input").GetInt32());
        }
        var twice = await Cli.RunAsync("start", TestRuns.Add, "5", "--input", "6", "--db", dir.DatabasePath);
        Assert.True(twice.ExitCode == 2 && twice.Err.Contains("not both", StringComparison.Ordinal), twice.ToString());
    }
}
