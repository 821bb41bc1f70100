using System.Text.Json;

namespace Keel.Cli.Tests.Commands;

public class RunsCommandTests
{
    [Fact]
    public async Task Runs_CompletedRuns_ListedNewestFirst()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "run-a", "run-b", "run-c");

        var result = await Cli.RunAsync("runs", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("RUN ID", lines[0], StringComparison.Ordinal);
        Assert.Equal(["run-c", "run-b", "run-a"], lines[1..].Select(l => l.Split(' ')[0]));
        Assert.All(lines[1..], l => Assert.Contains("add", l, StringComparison.Ordinal));
        Assert.All(lines[1..], l => Assert.Contains("Completed", l, StringComparison.Ordinal));
        Assert.DoesNotContain("--cursor", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_TimeAndAttentionFilters_AndWhyAFailedRunStopped()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "early");
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, TestContext.Current.CancellationToken);
        await TestRuns.FailAsync(dir.DatabasePath, "declined");

        var since = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--since", between.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var until = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--until", between.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var attention = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--attention");

        Assert.True(since.ExitCode == 0, since.ToString());
        Assert.Contains("declined", since.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("early", since.Out, StringComparison.Ordinal);
        Assert.Contains("early", until.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("declined", until.Out, StringComparison.Ordinal);
        Assert.Equal("No runs found.", attention.Out.Trim()); // failed and completed runs need no one
        Assert.Contains("DOING / WHY", since.Out, StringComparison.Ordinal);
        Assert.Contains("charge-card", since.Out.Split('\n').Single(l => l.StartsWith("declined", StringComparison.Ordinal)), StringComparison.Ordinal); // why: its error
    }

    [Fact]
    public async Task Runs_StatusAndWorkflowFilters_OnlyMatchingRuns()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "done-1");
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "waiting-1");

        var pending = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--status", "Pending");
        var both = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--status", "pending", "--status", "Completed");
        var otherWorkflow = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--workflow", "nope");

        Assert.True(pending.ExitCode == 0, pending.ToString());
        Assert.Contains("waiting-1", pending.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("done-1", pending.Out, StringComparison.Ordinal);
        Assert.Contains("waiting-1", both.Out, StringComparison.Ordinal);
        Assert.Contains("done-1", both.Out, StringComparison.Ordinal);
        Assert.Equal(0, otherWorkflow.ExitCode);
        Assert.Contains("No runs found.", otherWorkflow.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_LimitAndCursor_PagesThroughAllRuns()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "r1", "r2", "r3");

        var first = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--limit", "2");
        Assert.True(first.ExitCode == 0, first.ToString());
        var cursor = first.Out.Split('\n').Single(l => l.StartsWith("More runs:", StringComparison.Ordinal)).Split(' ')[^1];
        var second = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--limit", "2", "--cursor", cursor);

        Assert.True(second.ExitCode == 0, second.ToString());
        var ids = string.Concat(first.Out, second.Out).Split('\n').Select(l => l.Split(' ')[0]).Where(id => id.StartsWith('r')).ToList();
        Assert.Equal(["r3", "r2", "r1"], ids);
        Assert.DoesNotContain("More runs:", second.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_Json_ParsesWithRunsAndCursor()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "j1", "j2");

        var result = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--json", "--limit", "1");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var runs = json.RootElement.GetProperty("runs");
        Assert.Equal(1, runs.GetArrayLength());
        Assert.Equal("j2", runs[0].GetProperty("runId").GetString());
        Assert.Equal("Pending", runs[0].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task Runs_InvalidCursor_FailsWithOneLine()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "c1");

        var result = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--cursor", "garbage");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("invalid --cursor", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    public async Task Runs_LimitOutOfRange_ParseError(string limit)
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "l1");

        var result = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--limit", limit);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--limit must be between 1 and 1000", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_UnknownStatus_ParseErrorListsStatuses()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "s1");

        var result = await Cli.RunAsync("runs", "--db", dir.DatabasePath, "--status", "Done");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Unknown status 'Done'. Use one of: Pending, Running,", result.Err, StringComparison.Ordinal);
    }
}
