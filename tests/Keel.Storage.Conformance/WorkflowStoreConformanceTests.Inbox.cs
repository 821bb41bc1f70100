using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The inbox change (<see cref="InboxChange"/>) and the inbox it changes: signals kept in arrival order, consumed with their entries.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Signals_AreRefusedForUnknownAndFinishedRuns_AndKeptInArrivalOrder()
    {
        var store = await OpenAsync();
        Assert.Equal(SignalOutcome.NotFound, await SignalAsync(store, "nope", "go", "1", T0));
        await CreateAsync(store, "done");
        var done = (await ClaimAsync(store, "a", T0)).Single();
        Assert.True(await store.AppendAsync(done.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0), Token));
        Assert.Equal(SignalOutcome.AlreadyFinished, await SignalAsync(store, "done", "go", "1", T0));
        Assert.Empty(await store.GetSignalsAsync("done", Token));

        await CreateAsync(store, "r");
        Assert.Equal(SignalOutcome.Stored, await SignalAsync(store, "r", "go", "1", T0));
        Assert.Equal(SignalOutcome.Stored, await SignalAsync(store, "r", "other", "2", T0));
        Assert.Equal(SignalOutcome.Stored, await SignalAsync(store, "r", "go", "3", T0.AddSeconds(1)));
        var held = (await ClaimAsync(store, "a", T0.AddSeconds(1))).Single();
        Assert.Equal(SignalOutcome.StoredHeld, await SignalAsync(store, "r", "go", "4", T0.AddSeconds(2)));
        var signals = await store.GetSignalsAsync("r", Token);
        Assert.Equal(["1", "2", "3", "4"], signals.Select(x => x.Payload));
        Assert.Equal(["go", "other", "go", "go"], signals.Select(x => x.Name));
        Assert.True(signals.Zip(signals.Skip(1)).All(p => p.First.Id < p.Second.Id));

        // Renewal tells the holder its inbox has signals.
        var renewal = await store.RenewLeasesAsync("a", [held.Lease], T0.AddMinutes(1), Token);
        Assert.Equal(["r"], renewal.Signalled);
    }

    [Fact]
    public async Task ConsumingSignals_RemovesThemWithTheEntry_AndAFencedOutAppendConsumesNothing()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        await SignalAsync(store, "r", "go", "1", T0);
        await SignalAsync(store, "r", "go", "2", T0);
        var stale = (await ClaimAsync(store, "a", T0)).Single();
        var current = (await ClaimAsync(store, "b", T0.AddMinutes(1))).Single();
        var first = (await store.GetSignalsAsync("r", Token))[0];
        var received = new JournalEntry { Sequence = 1, Kind = JournalEntryKind.SignalReceived, Name = "go", RecordedAt = T0, Payload = first.Payload };

        Assert.False(await store.AppendAsync(stale.Lease, [received], new RunUpdate { Inbox = new InboxChange { ConsumedSignals = [first.Id] }, At = T0 }, Token));
        Assert.Equal(2, (await store.GetSignalsAsync("r", Token)).Count);
        Assert.Empty(await store.GetJournalAsync("r", Token));

        Assert.True(await store.AppendAsync(current.Lease, [received], new RunUpdate { Inbox = new InboxChange { ConsumedSignals = [first.Id] }, At = T0 }, Token));
        Assert.Equal(["2"], (await store.GetSignalsAsync("r", Token)).Select(x => x.Payload));
        Assert.Equal(JournalEntryKind.SignalReceived, Assert.Single(await store.GetJournalAsync("r", Token)).Kind);
    }
}
