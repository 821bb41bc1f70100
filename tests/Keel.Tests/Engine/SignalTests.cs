using Keel.Engine;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Tests.Engine;

public class SignalTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static void RegisterCollector(KeelBuilder k, Executions executions, TaskCompletionSource? gate = null) =>
        k.AddWorkflow<int, string>("collect", async (ctx, count) =>
        {
            await ctx.StepAsync("prepare", async _ =>
            {
                executions.Add("prepare");
                if (gate is not null)
                {
                    await gate.Task;
                }
                return 0;
            });
            var items = new List<string>();
            for (var i = 0; i < count; i++)
            {
                items.Add(await ctx.WaitForSignalAsync<string>("item"));
            }
            return string.Join(",", items);
        });

    [Fact]
    public async Task SignalsSentBeforeTheWait_AreDeliveredOnceEach_InArrivalOrder()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions, gate));
        var runId = (await keel.Client.StartAsync("collect", 3, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["prepare"] == 1), "the first step runs");
        foreach (var item in new[] { "a", "b", "c", "d" })
        {
            await keel.Client.SignalAsync(runId, "item", item, TestHost.Token);
        }
        gate.SetResult();

        Assert.Equal("a,b,c", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        var received = (await keel.Client.GetJournalAsync(runId, TestHost.Token)).Where(e => e.Kind == JournalEntryKind.SignalReceived).ToList();
        Assert.Equal(["\"a\"", "\"b\"", "\"c\""], received.Select(e => e.Payload));
        // The fourth was never waited for: it stays in the inbox, not consumed.
        var left = await db.InboxAsync(runId);
        Assert.Equal("\"d\"", Assert.Single(left).Payload);
    }

    [Fact]
    public async Task ASignalSentBySomeone_IsJournaledWithWhoAndWhy_AndTheHandoffSaysSo()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions));
        var runId = (await keel.Client.StartAsync("collect", 2, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");

        await keel.Client.As("ana", "the customer called").SignalAsync(runId, "item", "a", TestHost.Token);
        await keel.Client.SignalAsync(runId, "item", "b", TestHost.Token); // a program, nobody in particular: nothing more journaled
        Assert.Equal("a,b", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));

        var history = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
        var sent = Assert.Single(history.Decisions, d => d.Kind == DecisionKind.OperatorAction);
        Assert.Equal(("signal", "item", "ana", "the customer called"), (sent.Name, sent.SignalName, sent.By, sent.Reason));
        var decided = Assert.Single(RunHandoff.From(history).Decided, d => d.Kind == DecisionKind.OperatorAction);
        Assert.Equal("sent signal 'item'", decided.Summary);
        Assert.Equal("ana", decided.By);
    }

    [Fact]
    public async Task SignalToAReleasedRun_WakesIt_AndEachSignalIsConsumedOnce()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions));
        var runId = (await keel.Client.StartAsync("collect", 2, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");
        await TestHost.EventuallyAsync(() => Task.FromResult(keel.Worker!.ActiveRuns == 0), "the waiting run holds no memory");

        await keel.Client.SignalAsync(runId, "item", "first", TestHost.Token);
        await TestHost.WaitForJournalAsync(keel.Client, runId, j => j.Any(e => e.Kind == JournalEntryKind.SignalReceived), "the first signal is journaled");
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits again");
        await keel.Client.SignalAsync(runId, "item", "second", TestHost.Token);

        Assert.Equal("first,second", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal(1, executions["prepare"]);
        Assert.Empty(await db.InboxAsync(runId));
    }

    [Fact]
    public async Task WaitingRun_SurvivesRestart_AndTheSignalReachesTheNextWorker()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions)))
        {
            runId = (await keel.Client.StartAsync("collect", 1, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");
            // Sent while this worker still runs, but the run is released: it must not be lost at shutdown.
        }
        await using var store = db.CreateStore();
        var client = KeelClient.Create(store);
        await client.SignalAsync(runId, "item", "late", TestHost.Token);
        await using (var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions)))
        {
            Assert.Equal("late", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        Assert.Equal(1, executions["prepare"]);
    }

    [Fact]
    public async Task WaitWithTimeout_EndsWithATimeoutTheWorkflowHandles()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("answer", async (ctx, _) =>
        {
            try
            {
                return await ctx.WaitForSignalAsync<string>("reply", TimeSpan.FromHours(2));
            }
            catch (SignalTimeoutException ex)
            {
                return $"no reply ({ex.SignalName}, {ex.Timeout.TotalHours} h)";
            }
        }), time);
        var runId = (await keel.Client.StartAsync("answer", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");
        time.Advance(TimeSpan.FromHours(2));

        Assert.Equal("no reply (reply, 2 h)", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        var timedOut = Assert.Single(await keel.Client.GetJournalAsync(runId, TestHost.Token), e => e.Kind == JournalEntryKind.SignalTimedOut);
        Assert.Equal(T0.AddHours(2), timedOut.StartedAt);
    }

    [Fact]
    public async Task PayloadOfTheWrongShape_IsSetAsideAndJournaledAsRejected_WhileTheRunWaitsOnAndSaysWhy()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("typed", async (ctx, _) =>
            (await ctx.WaitForSignalAsync<int>("count")).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var runId = (await keel.Client.StartAsync("typed", 0, cancellationToken: TestHost.Token)).RunId;
        await keel.Client.SignalWithJsonAsync(runId, "count", "{\"not\":\"a number\"}", TestHost.Token);
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token)) is { Status: RunStatus.Waiting, StatusReason: not null },
            "the run waits on and says why");
        var waiting = (await keel.Client.GetRunAsync(runId, TestHost.Token))!;
        Assert.Contains("A signal 'count' sent", waiting.StatusReason, StringComparison.Ordinal);
        Assert.Contains("is not a Int32", waiting.StatusReason, StringComparison.Ordinal);
        Assert.Empty(await db.InboxAsync(runId)); // consumed with its journal entry
        var rejected = Assert.Single(await keel.Client.GetJournalAsync(runId, TestHost.Token), e => e.Kind == JournalEntryKind.SignalRejected);
        Assert.Equal("{\"not\":\"a number\"}", rejected.Payload);
        Assert.Equal(typeof(SignalPayloadException).FullName, rejected.Error!.Type);

        await keel.Client.SignalAsync(runId, "count", 7, TestHost.Token);
        Assert.Equal("7", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
        Assert.Equal(["7"], journal.Where(e => e.Kind == JournalEntryKind.SignalReceived).Select(e => e.Payload));
    }

    [Fact]
    public async Task PayloadOfAKindTheReleasedRunsWaitCannotRead_IsRefusedAtSend_AndNothingIsStored()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("typed", async (ctx, _) =>
            (await ctx.WaitForSignalAsync<Order>("order")).Sku));
        var runId = (await keel.Client.StartAsync("typed", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token)) is { Status: RunStatus.Waiting, Owner: null },
            "the run waits, released");
        // Any client, in any process: the store knows what the released run's wait reads.
        var remote = KeelClient.Create(db.CreateStore());
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => remote.SignalWithJsonAsync(runId, "order", "\"sku-1\"", TestHost.Token));
        Assert.Contains($"Run '{runId}' waits for signal 'order', and its workflow cannot read a JSON string there", refused.Message, StringComparison.Ordinal);
        Assert.Empty(await db.InboxAsync(runId));
        await remote.SignalWithJsonAsync(runId, "order", "{\"sku\":\"sku-1\",\"quantity\":2}", TestHost.Token);
        Assert.Equal("sku-1", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
    }

    public sealed record Order(string Sku, int Quantity);

    [Fact]
    public void JsonKinds_SayOnlyWhatIsCertain()
    {
        var web = KeelJson.Default;
        Assert.Equal(["number", "string"], JsonKinds.For(typeof(int), web)); // web defaults read numbers from strings too
        Assert.Equal(["number", "string", "null"], JsonKinds.For(typeof(int?), web));
        Assert.Equal(["string", "null"], JsonKinds.For(typeof(string), web));
        Assert.Equal(["boolean"], JsonKinds.For(typeof(bool), web));
        Assert.Equal(["object", "null"], JsonKinds.For(typeof(Order), web));
        Assert.Equal(["array", "null"], JsonKinds.For(typeof(List<int>), web));
        Assert.Equal(["object", "null"], JsonKinds.For(typeof(Dictionary<string, int>), web));
        Assert.Null(JsonKinds.For(typeof(DayOfWeek), web)); // enums may be numbers or names
        Assert.Null(JsonKinds.For(typeof(DateTimeOffset), web));
        Assert.Null(JsonKinds.For(typeof(System.Text.Json.JsonElement), web));
        Assert.Equal(["number"], JsonKinds.For(typeof(long), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.General)));
    }

    [Fact]
    public async Task BadSignals_AreRefusedClearly_AndStoreNothing()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("quick", (_, x) => Task.FromResult(x)));
        var runId = (await keel.Client.StartAsync("quick", 1, cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<int>(runId, TestHost.Token);

        var unknown = await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.SignalAsync("nope", "x", 1, TestHost.Token));
        Assert.Contains("nope", unknown.Message, StringComparison.Ordinal);
        var finished = await Assert.ThrowsAsync<RunFinishedException>(() => keel.Client.SignalAsync(runId, "x", 1, TestHost.Token));
        Assert.Contains("Completed", finished.Message, StringComparison.Ordinal);
        var malformed = await Assert.ThrowsAsync<ArgumentException>(() => keel.Client.SignalWithJsonAsync(runId, "x", "{oops", TestHost.Token));
        Assert.Contains("not valid JSON", malformed.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => keel.Client.SignalAsync(runId, "keel.approval/1", 1, TestHost.Token));
        Assert.Empty(await db.InboxAsync(runId));
    }

    [Fact]
    public async Task Replay_DeliversRecordedSignals_WithoutConsumingNewOnes()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions)))
        {
            runId = (await keel.Client.StartAsync("collect", 3, cancellationToken: TestHost.Token)).RunId;
            await keel.Client.SignalAsync(runId, "item", "x", TestHost.Token);
            await keel.Client.SignalAsync(runId, "item", "y", TestHost.Token);
            await TestHost.WaitForJournalAsync(keel.Client, runId, j => j.Count(e => e.Kind == JournalEntryKind.SignalReceived) == 2, "two signals are journaled");
        }
        await using (var keel = await TestHost.StartAsync(db, k => RegisterCollector(k, executions)))
        {
            await keel.Client.SignalAsync(runId, "item", "z", TestHost.Token);
            Assert.Equal("x,y,z", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        Assert.Equal(1, executions["prepare"]);
    }
}
