using System.Text.Json;

namespace Keel.Cli.Tests.Commands;

public class ShowCommandTests
{
    [Fact]
    public async Task Show_CompletedRun_PrintsStateAndTimeline()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "run-1");

        var result = await Cli.RunAsync("show", "run-1", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^Run\s+run-1$", result.Out);
        Assert.Matches(@"(?m)^Workflow\s+add$", result.Out);
        Assert.Matches(@"(?m)^Status\s+Completed$", result.Out);
        Assert.Matches(@"(?m)^Input\s+1$", result.Out);
        Assert.Matches(@"(?m)^Result\s+4$", result.Out);
        Assert.Contains("Journal (4 entries)", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+0\s+\+\d+\.\d{3}s\s+RunClaimed\s", result.Out); // which worker ran it
        Assert.Matches(@"(?m)^\s+1\s+\+\d+\.\d{3}s\s+StepCompleted\s+one\s+1\s+\d+\.\d{3}s\s+2$", result.Out);
        Assert.Matches(@"(?m)^\s+3\s+\+\d+\.\d{3}s\s+RunCompleted\s+add\s", result.Out);
        Assert.Matches(@"worker \S+ \(host [^,]+, pid \d+", result.Out);
        Assert.Matches(@"(?m)^  two: attempt 1 completed at \+\d+\.\d{3}s", result.Out);
    }

    [Fact]
    public async Task Show_Follow_PrintsWhatTheRunJournalsAsItHappens_UntilItEnds()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, k => k.AddWorkflow<int, string>("gated", async (ctx, _) =>
        {
            await ctx.StepAsync("before", _ => Task.FromResult(1));
            var go = await ctx.WaitForSignalAsync<string>("go");
            return await ctx.StepAsync("after", _ => Task.FromResult(go + "!"));
        }));
        await keel.Client.StartAsync("gated", 0, new StartWorkflowOptions { RunId = "gated-1" }, ct);
        await TestRuns.UntilAsync(async () => (await keel.Client.GetRunAsync("gated-1", ct))!.Status == RunStatus.Waiting, "it waits for the signal");

        var following = Cli.RunAsync("show", "gated-1", "--follow", "--db", dir.DatabasePath);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, ct); // it prints the run as it is, then follows
        Assert.False(following.IsCompleted); // a waiting run: it stays
        await keel.Client.SignalAsync("gated-1", "go", "now", ct);
        var result = await following.WaitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        var followed = result.Out[result.Out.IndexOf("Following run gated-1", StringComparison.Ordinal)..];
        Assert.Matches(@"SignalReceived go", followed);
        Assert.Matches(@"StepCompleted after", followed);
        Assert.Contains("status: Completed", followed, StringComparison.Ordinal);
        Assert.Contains("result: \"now!\"", followed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_RetriedStep_TellsEachAttempt()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteFlakyAsync(dir.DatabasePath, "flaky-1");

        var result = await Cli.RunAsync("show", "flaky-1", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"StepAttemptFailed\s+call-api\s+1\s+\d+\.\d{3}s\s+RetryableStepException: rate limited \(429\); retry at \+\d+\.\d{3}s", result.Out);
        Assert.Matches(
            @"(?m)^  call-api: attempt 1 failed \(RetryableStepException: rate limited \(429\)\), retried at \+\d+\.\d{3}s; attempt 2 completed at \+\d+\.\d{3}s",
            result.Out);
    }

    [Fact]
    public async Task Show_FailedRun_PrintsErrorAndFailedStep()
    {
        using var dir = new TempDirectory();
        await TestRuns.FailAsync(dir.DatabasePath, "doomed-1");

        var result = await Cli.RunAsync("show", "doomed-1", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^Status\s+Failed$", result.Out);
        Assert.Matches(@"(?m)^Error\s+TerminalStepException: step 'charge-card' failed after 1 attempt\(s\): card 4242 declined$", result.Out);
        Assert.Matches(@"(?m)^  charge-card: attempt 1 failed for good \(TerminalStepException: card 4242 declined\) at \+\d+\.\d{3}s$", result.Out);
        Assert.Matches(@"(?m)^  doomed: run failed \(", result.Out);
    }

    [Fact]
    public async Task Show_Json_ParsesAsRunAndJournal()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteFlakyAsync(dir.DatabasePath, "flaky-json");

        var result = await Cli.RunAsync("show", "flaky-json", "--db", dir.DatabasePath, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var run = json.RootElement.GetProperty("run");
        Assert.Equal("flaky-json", run.GetProperty("runId").GetString());
        Assert.Equal("Completed", run.GetProperty("status").GetString());
        var journal = json.RootElement.GetProperty("journal").EnumerateArray().ToList();
        Assert.Equal(["RunClaimed", "StepAttemptFailed", "StepCompleted", "RunCompleted"], journal.Select(e => e.GetProperty("kind").GetString()));
        Assert.Equal("rate limited (429)", journal[1].GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Show_UnknownRun_FailsWithMessage()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "run-1");

        var result = await Cli.RunAsync("show", "no-such-run", "--db", dir.DatabasePath);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("No run with id 'no-such-run'", result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Show_MissingRunId_ParseError()
    {
        using var dir = new TempDirectory();

        var result = await Cli.RunAsync("show", "--db", dir.DatabasePath);

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(dir.DatabasePath));
    }
}
