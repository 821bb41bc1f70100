namespace Keel.Tests.Engine;

public class CancellationTests
{
    [Fact]
    public async Task Cancel_RunningStep_FiresTokenAndEndsCancelled()
    {
        using var db = new TempDatabase();
        var stepCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("long", async (ctx, _) =>
            await ctx.StepAsync("forever", async sc =>
            {
                executions.Add("forever");
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    stepCancelled.TrySetResult();
                    throw;
                }
                return 1;
            })));
        var run = await keel.Client.StartAsync("long", 0, cancellationToken: TestHost.Token);
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["forever"] == 1), "the step runs");
        await keel.Client.CancelAsync(run.RunId, "operator changed priorities", TestHost.Token);
        await stepCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10), TestHost.Token);
        var ended = await keel.Client.WaitForCompletionAsync(run.RunId, TestHost.Token);
        Assert.Equal(RunStatus.Cancelled, ended.Status);
        var journal = await keel.Client.GetJournalAsync(run.RunId, TestHost.Token);
        Assert.Equal([JournalEntryKind.RunClaimed, JournalEntryKind.CancelRequested, JournalEntryKind.RunCancelled], journal.Select(e => e.Kind));
        await Assert.ThrowsAsync<RunFinishedException>(() => keel.Client.CancelAsync(run.RunId, null, TestHost.Token));
    }

    [Fact]
    public async Task Cancel_WorkflowSeesCancellationAndCanCatchIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("catches", async (ctx, _) =>
        {
            try
            {
                await ctx.StepAsync("forever", async sc =>
                {
                    executions.Add("forever");
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                    return 1;
                });
                return "finished";
            }
            catch (OperationCanceledException) when (ctx.CancellationToken.IsCancellationRequested)
            {
                return "cleaned up";
            }
        }));
        var run = await keel.Client.StartAsync("catches", 0, cancellationToken: TestHost.Token);
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["forever"] == 1), "the step runs");
        await keel.Client.CancelAsync(run.RunId, null, TestHost.Token);
        Assert.Equal("cleaned up", await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token));
    }

    [Fact]
    public async Task Cancel_RunNoWorkerHasStarted_EndsAtOnce()
    {
        using var db = new TempDatabase();
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(db.Path);
            k.RunWorker = false;
        }, cancellationToken: TestHost.Token);
        var run = await keel.Client.StartWithJsonAsync("anything", "{}", new StartWorkflowOptions { AllowUnknownWorkflow = true }, cancellationToken: TestHost.Token);
        await keel.Client.CancelAsync(run.RunId, "not needed", TestHost.Token);
        var cancelled = await keel.Client.GetRunAsync(run.RunId, TestHost.Token);
        Assert.Equal(RunStatus.Cancelled, cancelled!.Status);
        Assert.Equal("cancelled: not needed", cancelled.StatusReason);
        Assert.NotNull(cancelled.CompletedAt);
        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.CancelAsync("no-such-run", null, TestHost.Token));
    }

    [Fact]
    public async Task Cancel_RequestedWhileNoWorkerRuns_IsAppliedWhenAWorkerResumesTheRun()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        void Register(KeelBuilder k) => k.AddWorkflow<int, int>("resumed", async (ctx, _) =>
        {
            await ctx.StepAsync("first", _ => Task.FromResult(1));
            return await ctx.StepAsync("forever", async sc =>
            {
                executions.Add("forever");
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                return 1;
            });
        });
        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("resumed", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["forever"] == 1), "the step runs");
        }
        await KeelClient.Create(db.CreateStore()).CancelAsync(runId, null, TestHost.Token);
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            var ended = await keel.Client.WaitForCompletionAsync(runId, TestHost.Token);
            Assert.Equal(RunStatus.Cancelled, ended.Status);
        }
    }
}
