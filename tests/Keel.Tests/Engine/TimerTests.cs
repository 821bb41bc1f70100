using Microsoft.Extensions.Time.Testing;

namespace Keel.Tests.Engine;

public class TimerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static void Register(KeelBuilder k, Executions executions) => k.AddWorkflow<int, string>("reminder", async (ctx, _) =>
    {
        var before = ctx.UtcNow;
        await ctx.StepAsync("draft", _ =>
        {
            executions.Add("draft");
            return Task.FromResult(1);
        });
        await ctx.SleepAsync(TimeSpan.FromDays(2), "wait-for-customer");
        var sent = await ctx.StepAsync("send", _ =>
        {
            executions.Add("send");
            return Task.FromResult("sent");
        });
        return $"{sent} after {(ctx.UtcNow - before).TotalDays:0} days";
    });

    [Fact]
    public async Task Sleep_SurvivesRestart_AndFiresOnceWhenDue_WithoutHoldingTheRun()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        var executions = new Executions();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions), time))
        {
            runId = (await keel.Client.StartAsync("reminder", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run sleeps");
            await TestHost.EventuallyAsync(() => Task.FromResult(keel.Worker!.ActiveRuns == 0), "the sleeping run holds no memory");
        }

        // Two days pass while no worker runs; the next worker fires the timer at start-up.
        time.Advance(TimeSpan.FromDays(2));
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions), time))
        {
            Assert.Equal("sent after 2 days", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
            var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
            var fired = Assert.Single(journal, e => e.Kind == JournalEntryKind.TimerFired);
            Assert.Equal("wait-for-customer", fired.Name);
            Assert.Equal(T0.AddDays(2), fired.StartedAt);
        }
        Assert.Equal(1, executions["draft"]);
        Assert.Equal(1, executions["send"]);
    }

    [Fact]
    public async Task AWaitThatJournalsNothingUntilItEnds_StillSaysWhatItWaitsFor_AndSinceWhen_OnceAcrossRestarts()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        var executions = new Executions();
        void Workflows(KeelBuilder k)
        {
            Register(k, executions);
            k.AddWorkflow<int, string>("invoice", async (ctx, _) =>
            {
                await ctx.StepAsync("send invoice", _ => Task.FromResult(1));
                return await ctx.WaitForSignalAsync<string>("invoice-paid", TimeSpan.FromDays(30));
            });
        }
        string timer, signal;
        await using (var keel = await TestHost.StartAsync(db, Workflows, time))
        {
            timer = (await keel.Client.StartAsync("reminder", 0, cancellationToken: TestHost.Token)).RunId;
            signal = (await keel.Client.StartAsync("invoice", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(timer, TestHost.Token))!.Status == RunStatus.Waiting
                && (await keel.Client.GetRunAsync(signal, TestHost.Token))!.Status == RunStatus.Waiting, "both runs wait");

            var sleeping = Assert.Single((await keel.Client.GetHistoryAsync(timer, TestHost.Token))!.Waits);
            Assert.Equal((WaitKind.Timer, 2, "wait-for-customer", T0, T0.AddDays(2)), (sleeping.Kind, sleeping.Position, sleeping.Name, sleeping.Since, sleeping.DueAt));
            var waiting = Assert.Single((await keel.Client.GetHistoryAsync(signal, TestHost.Token))!.Waits);
            Assert.Equal((WaitKind.Signal, "invoice-paid", T0, T0.AddDays(30)), (waiting.Kind, waiting.SignalName, waiting.Since, waiting.DueAt));
        }

        // Another worker takes the runs up again an hour later (a replay): the waits began when they began, journaled once.
        time.Advance(TimeSpan.FromHours(1));
        await using (var keel = await TestHost.StartAsync(db, Workflows, time))
        {
            await keel.Client.SignalAsync(signal, "invoice-paid", "paid", TestHost.Token);
            Assert.Equal("paid", await keel.Client.GetResultAsync<string>(signal, TestHost.Token));
            time.Advance(TimeSpan.FromDays(2));
            Assert.Equal("sent after 2 days", await keel.Client.GetResultAsync<string>(timer, TestHost.Token));
            foreach (var (run, kind) in new[] { (timer, JournalEntryKind.TimerStarted), (signal, JournalEntryKind.SignalWaitStarted) })
            {
                var journal = await keel.Client.GetJournalAsync(run, TestHost.Token);
                Assert.Equal(T0, Assert.Single(journal, e => e.Kind == kind).RecordedAt);
                var history = (await keel.Client.GetHistoryAsync(run, TestHost.Token))!;
                Assert.Empty(history.Waits);
                Assert.Equal(T0, history.Operations.Single(o => o.Kind != OperationKind.Step).StartedAt);
            }
        }
    }

    [Fact]
    public async Task Sleep_NotYetDue_DoesNotFireEarly()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions), time);
        var runId = (await keel.Client.StartAsync("reminder", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run sleeps");
        time.Advance(TimeSpan.FromDays(1));
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, TestHost.Token);
        Assert.Equal(0, executions["send"]);
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal("sent after 2 days", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
    }

    [Fact]
    public async Task Sleep_RealTime_ShortTimerFiresInMemory()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("nap", async (ctx, _) =>
        {
            await ctx.SleepAsync(TimeSpan.FromMilliseconds(200));
            return 1;
        }));
        var run = await keel.Client.StartAsync("nap", 0, cancellationToken: TestHost.Token);
        Assert.Equal(1, await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token));
        var fired = Assert.Single(await keel.Client.GetJournalAsync(run.RunId, TestHost.Token), e => e.Kind == JournalEntryKind.TimerFired);
        Assert.True(fired.RecordedAt - (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CreatedAt >= TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Retention_PurgesFinishedRunsPastTheirAge()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("short-lived", (_, n) => Task.FromResult(n)), time,
            o =>
            {
                o.RetainFinishedRunsFor = TimeSpan.FromDays(7);
                o.RetentionPurgeInterval = TimeSpan.FromMilliseconds(50);
                o.LeaseRenewInterval = TimeSpan.FromMilliseconds(50);
            });
        var run = await keel.Client.StartAsync("short-lived", 1, cancellationToken: TestHost.Token);
        await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, TestHost.Token);
        Assert.NotNull(await keel.Client.GetRunAsync(run.RunId, TestHost.Token)); // younger than 7 days: kept
        time.Advance(TimeSpan.FromDays(8));
        await TestHost.EventuallyAsync(async () => await keel.Client.GetRunAsync(run.RunId, TestHost.Token) is null, "the old run is purged");
    }
}
