namespace Keel.Tests.Engine;

public class ChildRunTests
{
    private static void Register(KeelBuilder k, Executions executions, TaskCompletionSource? gate = null) => k
        .AddWorkflow<int, int>("parent", async (ctx, n) =>
        {
            var doubled = await ctx.RunChildAsync<int, int>("child", n);
            try
            {
                await ctx.RunChildAsync<int, int>("child", -1);
            }
            catch (ChildRunFailedException ex) when (ex.Status == RunStatus.Failed)
            {
                executions.Add("caught-child-failure");
            }
            return doubled + 1;
        })
        .AddWorkflow<int, int>("child", async (ctx, n) => await ctx.StepAsync("double", async _ =>
        {
            executions.Add($"double {n}");
            if (gate is not null)
            {
                await gate.Task;
            }
            return n >= 0 ? n * 2 : throw new TerminalStepException("negative input");
        }));

    [Fact]
    public async Task Parent_WaitsForItsChildDurably_AndGetsItsResultOrFailure()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions, gate));
        var parent = (await keel.Client.StartAsync("parent", 20, cancellationToken: TestHost.Token)).RunId;
        var child = $"{parent}.1";
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["double 20"] == 1), "the child runs");
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(parent, TestHost.Token)) is { Status: RunStatus.Waiting, Owner: null },
            "the parent waits, released from memory");
        var childRun = await keel.Client.GetRunAsync(child, TestHost.Token);
        Assert.Equal(parent, childRun!.ParentRunId);
        gate.SetResult();

        Assert.Equal(41, await keel.Client.GetResultAsync<int>(parent, TestHost.Token));
        Assert.Equal(1, executions["caught-child-failure"]);
        var journal = await keel.Client.GetJournalAsync(parent, TestHost.Token);
        Assert.Equal([JournalEntryKind.ChildStarted, JournalEntryKind.ChildCompleted, JournalEntryKind.ChildStarted, JournalEntryKind.ChildFailed],
            journal.Where(e => e.Kind is JournalEntryKind.ChildStarted or JournalEntryKind.ChildCompleted or JournalEntryKind.ChildFailed).Select(e => e.Kind));
        Assert.Equal(RunStatus.Failed, (await keel.Client.GetRunAsync($"{parent}.2", TestHost.Token))!.Status);
    }

    [Fact]
    public async Task ParentRestarted_FindsTheSameChild_InsteadOfStartingAnother()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string parent;
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions, gate)))
        {
            parent = (await keel.Client.StartAsync("parent", 5, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["double 5"] == 1), "the child runs");
        }
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions)))
        {
            Assert.Equal(11, await keel.Client.GetResultAsync<int>(parent, TestHost.Token));
            var page = await keel.Client.ListRunsAsync(new RunQuery { WorkflowName = "child" }, TestHost.Token);
            Assert.Equal(2, page.Runs.Count); // the 5 and the -1 child, each started once
        }
    }

    [Fact]
    public async Task CancellingTheParent_CancelsItsChild()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, int>("parent", (ctx, n) => ctx.RunChildAsync<int, int>("child", n))
            .AddWorkflow<int, int>("child", async (ctx, n) => await ctx.StepAsync("wait", async sc =>
            {
                executions.Add("child-step");
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                return n;
            })));
        var parent = (await keel.Client.StartAsync("parent", 1, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["child-step"] == 1), "the child runs");
        await keel.Client.CancelAsync(parent, "changed plans", TestHost.Token);

        Assert.Equal(RunStatus.Cancelled, (await keel.Client.WaitForCompletionAsync(parent, TestHost.Token)).Status);
        Assert.Equal(RunStatus.Cancelled, (await keel.Client.WaitForCompletionAsync($"{parent}.1", TestHost.Token)).Status);
    }

    [Fact]
    public async Task ParentOfAChildThatWaitsForAPerson_SaysWhatItWaitsFor_AndGoesOnOnceTheChildIsResolved()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, string>("parent", async (ctx, n) => await ctx.RunChildAsync<int, string>("guarded", n))
            .AddWorkflow<int, string>("guarded", async (ctx, _) => await ctx.StepAsync("wire", _ => Task.FromResult("wired"),
                new StepOptions { Requires = [StepGuard.ApprovalGranted("wire")] })));
        var parent = (await keel.Client.StartAsync("parent", 1, cancellationToken: TestHost.Token)).RunId;
        var child = $"{parent}.1";
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(parent, TestHost.Token))?.StuckChild is not null, "the parent says its child is stuck");
        var stuck = (await keel.Client.GetRunAsync(parent, TestHost.Token))!.StuckChild!;
        Assert.Equal((child, RunStatus.NeedsAttention), (stuck.RunId, stuck.Status));
        Assert.Contains("Precondition not met for step 'wire'", stuck.Reason, StringComparison.Ordinal);

        await keel.Client.ResolveAsync(child, StepResolution.CompleteWith("\"wired by hand\"", "ada"), TestHost.Token);
        Assert.Equal("wired by hand", await keel.Client.GetResultAsync<string>(parent, TestHost.Token));
        Assert.Null((await keel.Client.GetRunAsync(parent, TestHost.Token))!.StuckChild);
    }

    [Fact]
    public async Task ChildThatDoesNotFinishWithinItsTimeout_IsCancelled_AndTheParentGetsATimeout()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, string>("parent", async (ctx, n) =>
            {
                try
                {
                    return await ctx.RunChildAsync<int, string>("slow", n, timeout: TimeSpan.FromMilliseconds(300));
                }
                catch (ChildRunTimeoutException ex)
                {
                    return $"gave up on {ex.ChildRunId}";
                }
            })
            .AddWorkflow<int, string>("slow", async (ctx, _) => await ctx.WaitForSignalAsync<string>("never")));
        var parent = (await keel.Client.StartAsync("parent", 1, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal($"gave up on {parent}.1", await keel.Client.GetResultAsync<string>(parent, TestHost.Token));
        var child = await keel.Client.WaitForCompletionAsync($"{parent}.1", TestHost.Token);
        Assert.Equal(RunStatus.Cancelled, child.Status);
        Assert.Contains("stopped waiting for it", child.StatusReason, StringComparison.Ordinal);
        var failed = Assert.Single(await keel.Client.GetJournalAsync(parent, TestHost.Token), e => e.Kind == JournalEntryKind.ChildFailed);
        Assert.Equal("Keel.ChildTimedOut", failed.Error!.Type);
    }
}
