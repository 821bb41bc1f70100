using System.Reflection;
using System.Text;
using System.Security.Cryptography;
using Keel.Engine;
using Keel.Storage;

namespace Keel.Tests.Engine;

/// <summary>Stored messages a journal refers to: staged by step bodies and stored with the append that names them (no
/// commit of their own), loaded before the run's code replays.</summary>
public class RunMessagesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheMachine_SaysWhetherTheJournalRefersToStoredMessages()
    {
        static JournalEntry Step(int sequence, string? payload) =>
            new() { Sequence = sequence, Kind = JournalEntryKind.StepCompleted, Name = "s", RecordedAt = T0, Payload = payload };
        Assert.False(new JournalMachine("r", T0, []).RefersToStoredMessages);
        Assert.False(new JournalMachine("r", T0, [Step(1, "{\"messages\":[]}"), Step(2, null)]).RefersToStoredMessages);
        Assert.False(new JournalMachine("r", T0, [Step(1, "{\"text\":\"about keel.messages\"}"), Step(2, null)]).RefersToStoredMessages);
        Assert.True(new JournalMachine("r", T0, [Step(1, "1"), Step(2, "{\"keel.messages\":[\"h\"]}")]).RefersToStoredMessages);
    }

    [Fact]
    public async Task AStepBodyStagesMessages_TheyCommitWithItsOutcome_TheReplayReadsThemWithoutIO_AndRunsWithoutThemCostNoQuery()
    {
        using var db = new TempDatabase();
        var bodies = 0;
        void Workflows(KeelBuilder k)
        {
            k.AddWorkflow<string, string>("refs", async (ctx, text) =>
            {
                var reference = await ctx.StepAsync("keep", async step =>
                {
                    Interlocked.Increment(ref bodies);
                    var json = $"{{\"text\":\"{text}\"}}";
                    var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
                    ctx.Messages!.Stage([new StoredMessage(hash, json)]);
                    await Task.Yield();
                    return new Dictionary<string, string> { ["keel.messages"] = hash };
                });
                // Read synchronously in workflow code, live (the body's put) and on replay (loaded before the code ran).
                Assert.True(ctx.Messages!.TryGet(reference["keel.messages"], out var stored));
                await ctx.WaitForSignalAsync<string>("go");
                return stored;
            });
            k.AddWorkflow<string, string>("plain", async (ctx, text) =>
            {
                var value = await ctx.StepAsync("keep", _ => Task.FromResult(text));
                await ctx.WaitForSignalAsync<string>("go");
                return value;
            });
        }

        var counter = new CallCounter();
        string withRefs, plain;
        await using (var keel = await StartAsync(db, counter, Workflows))
        {
            withRefs = (await keel.Client.StartAsync("refs", "hello", cancellationToken: TestHost.Token)).RunId;
            plain = (await keel.Client.StartAsync("plain", "hello", cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(withRefs, TestHost.Token))!.Status == RunStatus.Waiting
                && (await keel.Client.GetRunAsync(plain, TestHost.Token))!.Status == RunStatus.Waiting, "both runs wait");
            await using var reader = db.CreateStore();
            Assert.Single(await reader.GetRunMessagesAsync(withRefs, TestHost.Token)); // stored, linked to the run
        }
        Assert.Equal(0, counter.RunMessageReads); // fresh runs: nothing to load
        Assert.Equal(0, counter.MessagePuts); // stored by the append that journaled the step's outcome, not a put of their own

        await using (var keel = await StartAsync(db, counter, Workflows))
        {
            await keel.Client.SignalAsync(plain, "go", "now", TestHost.Token);
            Assert.Equal("hello", await keel.Client.GetResultAsync<string>(plain, TestHost.Token));
            Assert.Equal(0, counter.RunMessageReads); // a journal that refers to no stored message: no query
            await keel.Client.SignalAsync(withRefs, "go", "now", TestHost.Token);
            Assert.Equal("{\"text\":\"hello\"}", await keel.Client.GetResultAsync<string>(withRefs, TestHost.Token));
            Assert.Equal(1, counter.RunMessageReads); // one read, before the replay
        }
        Assert.Equal(1, bodies);

        await using var store = db.CreateStore();
        var archive = await KeelClient.Create(store).ExportAsync([withRefs, plain], TestHost.Token);
        Assert.Equal(["{\"text\":\"hello\"}"], archive.Messages!.Values);
    }

    [Fact]
    public async Task AnInputThatNamesStoredMessages_HasThemLoadedAndLinked_AndStagedMessagesAreStoredBeforeTheRunEnds()
    {
        using var db = new TempDatabase();
        static StoredMessage Message(string json) => new(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json))), json);
        var first = Message("{\"text\":\"first\"}");
        // A snapshot that names the first message: what is loaded follows the names in what it loads.
        var snapshot = Message($"{{\"list\":{{\"keel.messages\":[\"{first.Hash}\"]}}}}");
        var kept = Message("{\"text\":\"kept by the second run\"}");
        await using (var store = db.CreateStore())
        {
            await store.InitializeAsync(TestHost.Token);
            await store.CreateRunAsync(new NewRun { RunId = "earlier", WorkflowName = "other", Input = "1", CreatedAt = T0 }, TestHost.Token);
            await store.PutMessagesAsync("earlier", [first, snapshot], TestHost.Token);
        }

        var counter = new CallCounter();
        await using (var keel = await StartAsync(db, counter, k => k.AddWorkflow<Dictionary<string, string>, string>("continue", async (ctx, input) =>
        {
            // No I/O in workflow code: what the input names was loaded before it ran.
            Assert.True(ctx.Messages!.TryGet(input["keel.messages"], out var loaded));
            Assert.True(ctx.Messages.TryGet(first.Hash, out var text));
            await ctx.StepAsync("work", _ => Task.FromResult(1));
            ctx.Messages.Stage([kept]);
            return $"{loaded.Length} {text}";
        })))
        {
            var run = await keel.Client.StartAsync("continue", new Dictionary<string, string> { ["keel.messages"] = snapshot.Hash }, cancellationToken: TestHost.Token);
            Assert.Equal($"{snapshot.Json.Length} {first.Json}", await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token));

            await using var store = db.CreateStore();
            // Linked to the run that continued them (they stay while it does), and what it staged is stored.
            Assert.Equal(new[] { first.Hash, kept.Hash, snapshot.Hash }.Order(StringComparer.Ordinal),
                (await store.GetRunMessagesAsync(run.RunId, TestHost.Token)).Keys.Order(StringComparer.Ordinal));
            // An export carries what the run's journal and input name (here the input's, which its replay reads).
            var archive = await keel.Client.ExportAsync([run.RunId], TestHost.Token);
            Assert.Equal(new[] { first.Hash, snapshot.Hash }.Order(StringComparer.Ordinal), archive.Messages!.Keys.Order(StringComparer.Ordinal));
        }
        Assert.Equal(0, counter.RunMessageReads); // a fresh run whose journal names nothing: no read of its links
    }

    private static Task<KeelHost> StartAsync(TempDatabase db, CallCounter counter, Action<KeelBuilder> workflows) =>
        KeelHost.StartAsync(k =>
        {
            k.UseStore(_ => CountingStore.Wrap(db.CreateStore(), counter));
            k.Configure(o =>
            {
                o.DrainTimeout = TimeSpan.FromMilliseconds(200);
                o.PollInterval = TimeSpan.FromMilliseconds(20);
            });
            workflows(k);
        }, null, TestHost.Token);

    private sealed class CallCounter
    {
        private int _runMessageReads;
        private int _messagePuts;

        public int RunMessageReads => Volatile.Read(ref _runMessageReads);

        public int MessagePuts => Volatile.Read(ref _messagePuts);

        public void Count(MethodInfo method)
        {
            if (method.Name == nameof(IWorkflowStore.GetRunMessagesAsync))
            {
                Interlocked.Increment(ref _runMessageReads);
            }
            else if (method.Name == nameof(IWorkflowStore.PutMessagesAsync))
            {
                Interlocked.Increment(ref _messagePuts);
            }
        }
    }

    /// <summary>A store that counts the calls made to it.</summary>
    public class CountingStore : DispatchProxy
    {
        private IWorkflowStore _inner = null!;
        private object _counter = null!;

        internal static IWorkflowStore Wrap(IWorkflowStore inner, object counter)
        {
            var proxy = Create<IWorkflowStore, CountingStore>();
            var self = (CountingStore)(object)proxy;
            self._inner = inner;
            self._counter = counter;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ((CallCounter)_counter).Count(targetMethod!);
            try
            {
                return targetMethod!.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
