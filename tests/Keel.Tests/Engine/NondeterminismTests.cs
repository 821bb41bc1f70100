namespace Keel.Tests.Engine;

public class NondeterminismTests
{
    [Fact]
    public async Task ChangedWorkflow_AtJournaledPosition_BlocksRunWithClearMessage()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("evolving", async (ctx, _) =>
        {
            await ctx.StepAsync("search", _ => Task.FromResult(1));
            return await ctx.StepAsync("wait", async sc =>
            {
                executions.Add("wait");
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                return 2;
            });
        })))
        {
            runId = (await keel.Client.StartAsync("evolving", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["wait"] == 1), "the wait step runs");
        }

        // A new deployment renamed the first step while the run was in flight.
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("evolving", async (ctx, _) =>
        {
            await ctx.StepAsync("summarize", _ =>
            {
                executions.Add("summarize");
                return Task.FromResult(1);
            });
            return 3;
        })))
        {
            var run = await keel.Client.WaitForCompletionAsync(runId, TestHost.Token);
            Assert.Equal(RunStatus.Blocked, run.Status);
            Assert.Contains($"Run '{runId}'", run.StatusReason, StringComparison.Ordinal);
            Assert.Contains("position 1", run.StatusReason, StringComparison.Ordinal);
            Assert.Contains("recorded step 'search'", run.StatusReason, StringComparison.Ordinal);
            Assert.Contains("asks for step 'summarize'", run.StatusReason, StringComparison.Ordinal);
            Assert.Contains("then unblock the run; or cancel it", run.StatusReason, StringComparison.Ordinal);
            Assert.Equal(typeof(NondeterminismException).FullName, run.Error!.Type);
            var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
            Assert.Equal(JournalEntryKind.RunBlocked, journal[^1].Kind);
        }
        Assert.Equal(0, executions["summarize"]);
    }

    [Fact]
    public async Task BlockedRun_UnblockedOnceTheCodeItStartedWithIsBack_ContinuesWhereItStopped_AndTheJournalSaysWhoDidIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void V1(KeelBuilder k) => k.AddWorkflow<int, int>("evolving", async (ctx, _) =>
        {
            var a = await ctx.StepAsync("search", _ =>
            {
                executions.Add("search");
                return Task.FromResult(1);
            });
            return a + await ctx.StepAsync("hold", async sc =>
            {
                executions.Add("hold");
                await release.Task.WaitAsync(sc.CancellationToken);
                return 2;
            });
        });
        string runId;
        await using (var keel = await TestHost.StartAsync(db, V1))
        {
            runId = (await keel.Client.StartAsync("evolving", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["hold"] == 1), "the hold step runs");
        }
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("evolving", async (ctx, _) =>
            await ctx.StepAsync("summarize", _ => Task.FromResult(3)))))
        {
            Assert.Equal(RunStatus.Blocked, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
            await Assert.ThrowsAsync<RunStateException>(() => keel.Client.ResumeAsync(runId, TestHost.Token)); // resume is for paused runs
        }

        release.SetResult();
        await using (var keel = await TestHost.StartAsync(db, V1))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, TestHost.Token);
            Assert.Equal(RunStatus.Blocked, (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status); // the old code alone does not move it
            await keel.Client.UnblockAsync(runId, "ada", "v1 redeployed", TestHost.Token);
            Assert.Equal(3, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
            var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
            var unblocked = Assert.Single(journal, e => e.Kind == JournalEntryKind.RunUnblocked);
            Assert.Contains("\"by\":\"ada\"", unblocked.Payload, StringComparison.Ordinal);
            Assert.Contains("\"reason\":\"v1 redeployed\"", unblocked.Payload, StringComparison.Ordinal);
            Assert.True(journal.ToList().IndexOf(unblocked) > journal.ToList().FindIndex(e => e.Kind == JournalEntryKind.RunBlocked));
            await Assert.ThrowsAsync<RunFinishedException>(() => keel.Client.UnblockAsync(runId, cancellationToken: TestHost.Token));
            await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.UnblockAsync("nobody", cancellationToken: TestHost.Token));
        }
        Assert.Equal(1, executions["search"]); // not run again: the run continued, it did not restart
        Assert.Equal(2, executions["hold"]);
    }

    [Fact]
    public async Task WorkflowThatSkipsARecordedStep_IsBlocked()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("shrinking", async (ctx, _) =>
        {
            await ctx.StepAsync("a", _ => Task.FromResult(1));
            await ctx.StepAsync("b", _ => Task.FromResult(2));
            return await ctx.StepAsync("wait", async sc =>
            {
                executions.Add("wait");
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                return 2;
            });
        })))
        {
            runId = (await keel.Client.StartAsync("shrinking", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["wait"] == 1), "the wait step runs");
        }
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("shrinking", async (ctx, _) =>
        {
            await ctx.StepAsync("a", _ => Task.FromResult(1));
            return 0; // returns before reaching the journaled step 'b'
        })))
        {
            var run = await keel.Client.WaitForCompletionAsync(runId, TestHost.Token);
            Assert.Equal(RunStatus.Blocked, run.Status);
            Assert.Contains("position 2", run.StatusReason, StringComparison.Ordinal);
            Assert.Contains("step 'b'", run.StatusReason, StringComparison.Ordinal);
        }
    }
}
