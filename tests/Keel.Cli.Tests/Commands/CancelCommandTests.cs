namespace Keel.Cli.Tests.Commands;

public class CancelCommandTests
{
    [Fact]
    public async Task Cancel_PendingRun_EndsCancelledWithReason()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");

        var result = await Cli.RunAsync("cancel", "p-1", "--db", dir.DatabasePath, "--reason", "not needed");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Run p-1 is cancelled.", result.Out, StringComparison.Ordinal);
        var run = await TestRuns.GetRunAsync(dir.DatabasePath, "p-1");
        Assert.Equal(RunStatus.Cancelled, run!.Status);
    }

    [Fact]
    public async Task Cancel_RunningRun_WorkerStopsIt()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        var stepStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, k => k.AddWorkflow<int, int>("slow", (ctx, _) =>
            ctx.StepAsync("wait-forever", async step =>
            {
                stepStarted.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, step.CancellationToken);
                return 0;
            })));
        await keel.Client.StartAsync("slow", 0, new StartWorkflowOptions { RunId = "slow-1" }, ct);
        await stepStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);

        var result = await Cli.RunAsync("cancel", "slow-1", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Cancellation requested for run slow-1", result.Out, StringComparison.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var run = await keel.Client.WaitForCompletionAsync("slow-1", timeout.Token);
        Assert.Equal(RunStatus.Cancelled, run.Status);
    }

    [Fact]
    public async Task Cancel_FinishedRun_FailsWithMessage()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "done-1");

        var result = await Cli.RunAsync("cancel", "done-1", "--db", dir.DatabasePath);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("has already finished (Completed)", result.Err, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, (await TestRuns.GetRunAsync(dir.DatabasePath, "done-1"))!.Status);
    }

    [Fact]
    public async Task Cancel_UnknownRun_FailsWithMessage()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");

        var result = await Cli.RunAsync("cancel", "nope", "--db", dir.DatabasePath);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("No run with id 'nope'", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_ByQuery_ListsFirstWithDryRun_ThenCancelsOnlyTheWorkflowsRunsInFlight()
    {
        using var dir = new TempDirectory();
        var db = dir.DatabasePath;
        await TestRuns.FailAsync(db, "doomed-1"); // another workflow
        await TestRuns.CompleteAsync(db, "add-done");
        await TestRuns.CreatePendingAsync(db, "add-1", "add-2"); // last: no worker runs them

        var dry = await Cli.RunAsync("cancel", "--workflow", TestRuns.Add, "--dry-run", "--db", db);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("would cancel  add-1  (add, Pending)", dry.Out, StringComparison.Ordinal);
        Assert.Contains("would cancel  add-2", dry.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("add-done", dry.Out, StringComparison.Ordinal);
        Assert.Contains("2 run(s) would be cancelled or asked to stop (dry run: nothing changed).", dry.Out, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Pending, (await TestRuns.GetRunAsync(db, "add-1"))!.Status);

        var finishedOnly = await Cli.RunAsync("cancel", "--workflow", TestRuns.Add, "--status", "Completed", "--db", db);
        Assert.True(finishedOnly.ExitCode == 2 && finishedOnly.Err.Contains("--status Completed", StringComparison.Ordinal), finishedOnly.ToString());
        var both = await Cli.RunAsync("cancel", "add-1", "--workflow", TestRuns.Add, "--db", db);
        Assert.Equal(2, both.ExitCode);

        var done = await Cli.RunAsync("cancel", "--workflow", TestRuns.Add, "--status", "Pending", "--reason", "bad batch", "--by", "ops", "--json", "--db", db);
        Assert.True(done.ExitCode == 0, done.ToString());
        var envelope = System.Text.Json.Nodes.JsonNode.Parse(done.Out)!;
        Assert.True((bool)envelope["ok"]! && !(bool)envelope["dryRun"]! && (string)envelope["action"]! == "cancel", done.Out);
        Assert.Equal(["add-2", "add-1"], envelope["runs"]!.AsArray().Select(r => (string)r!["runId"]!).Order().Reverse());
        Assert.All(envelope["runs"]!.AsArray(), r => Assert.Equal("Cancelled", (string)r!["status"]!));
        Assert.Equal(RunStatus.Completed, (await TestRuns.GetRunAsync(db, "add-done"))!.Status);
        Assert.Equal(RunStatus.Failed, (await TestRuns.GetRunAsync(db, "doomed-1"))!.Status);
    }
}
