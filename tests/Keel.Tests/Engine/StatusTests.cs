namespace Keel.Tests.Engine;

public class StatusTests
{
    [Fact]
    public async Task SetStatus_IsVisibleWhileAStepRuns_AndKeptAfterwards()
    {
        using var db = new TempDatabase();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("reporting", async (ctx, _) =>
        {
            ctx.SetStatus("searching", new { sources = 3 });
            await ctx.StepAsync("search", async sc =>
            {
                executions.Add("search");
                await release.Task.WaitAsync(sc.CancellationToken);
                return 1;
            });
            ctx.SetStatus("summarizing");
            return await ctx.StepAsync("summarize", _ => Task.FromResult(2));
        }));
        var run = await keel.Client.StartAsync("reporting", 0, cancellationToken: TestHost.Token);
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["search"] == 1), "the search step runs");
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CustomStatus is not null,
            "the status is stored while the step runs");
        var during = (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CustomStatus!;
        Assert.Equal("searching", during.Text);
        Assert.Equal("{\"sources\":3}", during.Data);

        release.SetResult();
        await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token);
        var after = (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CustomStatus!;
        Assert.Equal("summarizing", after.Text);
        Assert.Null(after.Data);
        // Each status is kept in the run's history (journaled with the run's next write), the latest on the row.
        var history = (await keel.Client.GetHistoryAsync(run.RunId, TestHost.Token))!;
        Assert.Equal(["searching", "summarizing"], history.Statuses.Select(s => s.Text));
        Assert.Equal("{\"sources\":3}", history.Statuses[0].Data);
    }

    [Fact]
    public async Task Progress_IsKeptWithEachStatus_AndAReplayDoesNotRecordItAgain()
    {
        using var db = new TempDatabase();
        string runId;
        void Register(KeelBuilder k) => k.AddWorkflow<int, int>("sources", async (ctx, _) =>
        {
            var total = 0;
            for (var i = 1; i <= 3; i++)
            {
                ctx.SetStatus("checking sources", progress: (i - 1, 3));
                total += await ctx.StepAsync($"source-{i}", _ => Task.FromResult(i));
            }
            ctx.SetStatus("done", progress: (3, 3));
            await ctx.SleepAsync(TimeSpan.FromMilliseconds(50)); // released and resumed: the code replays its statuses
            return total;
        });
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("sources", 0, cancellationToken: TestHost.Token)).RunId;
            Assert.Equal(6, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
            Assert.Equal(new StatusProgress(3, 3), (await keel.Client.GetRunAsync(runId, TestHost.Token))!.CustomStatus!.Progress);
        }
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            var history = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
            Assert.Equal([(0, 3), (1, 3), (2, 3), (3, 3)], history.Statuses.Select(s => (s.Progress!.Done, s.Progress.Total)));
        }
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("bad", (ctx, _) =>
        {
            ctx.SetStatus("too far", progress: (4, 3));
            return Task.FromResult(0);
        })))
        {
            var bad = (await keel.Client.StartAsync("bad", 0, cancellationToken: TestHost.Token)).RunId;
            var run = await keel.Client.WaitForCompletionAsync(bad, TestHost.Token);
            Assert.Equal((RunStatus.Failed, typeof(ArgumentOutOfRangeException).FullName), (run.Status, run.Error?.Type));
        }
    }
}

public class PlanTests
{
    [Fact]
    public async Task ADeclaredPlan_TellsWhatRemains_IsRevisable_AndAReplayDoesNotRecordItAgain()
    {
        using var db = new TempDatabase();
        void Register(KeelBuilder k) => k.AddWorkflow<int, string>("support", async (ctx, _) =>
        {
            ctx.Plan("look up customer", "draft reply", "approved", "send");
            await ctx.StepAsync("look up customer", _ => Task.FromResult(1));
            await ctx.StepAsync("draft reply", _ => Task.FromResult(2));
            ctx.Plan("look up customer", "draft reply", "approved", "send"); // the same plan again: nothing new
            var approved = await ctx.WaitForSignalAsync<bool>("approved");
            ctx.Plan("look up customer", "draft reply", "approved", approved ? "send" : "apologize"); // revised
            return await ctx.StepAsync(approved ? "send" : "apologize", _ => Task.FromResult("done"));
        });
        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("support", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "it waits for approval");
            var waiting = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
            Assert.Equal(["look up customer", "draft reply", "approved", "send"], waiting.Plan);
            Assert.Equal(["approved", "send"], waiting.Remaining);
        }
        await using (var keel = await TestHost.StartAsync(db, Register)) // a restart: the code replays its Plan calls
        {
            await keel.Client.SignalAsync(runId, "approved", false, TestHost.Token);
            Assert.Equal("done", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
            var done = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
            Assert.Equal(["look up customer", "draft reply", "approved", "apologize"], done.Plan);
            Assert.Empty(done.Remaining!);
            Assert.Equal(2, (await keel.Client.GetJournalAsync(runId, TestHost.Token)).Count(e => e.Kind == JournalEntryKind.PlanDeclared));
        }
    }

    [Fact]
    public async Task ARunWithoutAPlan_HasNoKnownRemainder()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("plain", (ctx, _) => ctx.StepAsync("one", _ => Task.FromResult(1))));
        var runId = (await keel.Client.StartAsync("plain", 0, cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<int>(runId, TestHost.Token);
        var history = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
        Assert.Null(history.Plan);
        Assert.Null(history.Remaining);
    }
}
