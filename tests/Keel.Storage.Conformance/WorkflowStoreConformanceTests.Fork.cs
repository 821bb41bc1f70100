using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>Forking a run (<see cref="IWorkflowStore.ForkAsync"/>).</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Fork_CreatesTheRunWithItsJournal_AndRecordsItInTheSource_EvenWhileTheSourceIsHeld()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "src");
        var held = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.True(await store.AppendAsync(held.Lease, [Entry(1, "one"), Entry(2, "two")], null, Token));
        var record = new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunForked, Name = "w", RecordedAt = T0.AddSeconds(1), Payload = "{\"source\":\"src\"}" };

        var outcome = await store.ForkAsync(new NewRun { RunId = "copy", WorkflowName = "w", Input = "{}", CreatedAt = T0.AddSeconds(1) },
            [record, Entry(1, "one")], "src", record, Token);

        Assert.Equal(ForkOutcome.Forked, outcome);
        var fork = (await store.GetRunAsync("copy", Token))!;
        Assert.Equal((RunStatus.Pending, null), (fork.Status, fork.Owner));
        Assert.Equal([JournalEntryKind.RunForked, JournalEntryKind.StepCompleted], (await store.GetJournalAsync("copy", Token)).Select(e => e.Kind));
        Assert.True(await store.AppendAsync(held.Lease, [Entry(3, "three")], null, Token)); // the source's worker goes on
        var source = await store.GetJournalAsync("src", Token);
        Assert.Equal([0L, 1, 2, 3], source.Select(e => e.Index));
        Assert.Equal([JournalEntryKind.StepCompleted, JournalEntryKind.StepCompleted, JournalEntryKind.RunForked, JournalEntryKind.StepCompleted], source.Select(e => e.Kind));
        var claimed = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)), c => c.Run.RunId == "copy");
        Assert.Equal(2, claimed.JournalLength ?? 2);
        Assert.True(await store.AppendAsync(claimed.Lease, [Entry(2, "two")], null, Token)); // the fork's own appends follow its copied journal
        Assert.Equal([0L, 1, 2], (await store.GetJournalAsync("copy", Token)).Select(e => e.Index));

        Assert.Equal(ForkOutcome.IdTaken, await store.ForkAsync(new NewRun { RunId = "copy", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, [], "src", record, Token));
        Assert.Equal(ForkOutcome.SourceNotFound, await store.ForkAsync(new NewRun { RunId = "other", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, [], "nobody", record, Token));
        Assert.Null(await store.GetRunAsync("other", Token));
        Assert.Equal(4, (await store.GetJournalAsync("src", Token)).Count); // nothing written by the refused forks
    }
}
