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
            Assert.Contains("keel cancel", run.StatusReason, StringComparison.Ordinal);
            Assert.Equal(typeof(NondeterminismException).FullName, run.Error!.Type);
            var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
            Assert.Equal(JournalEntryKind.RunBlocked, journal[^1].Kind);
        }
        Assert.Equal(0, executions["summarize"]);
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
