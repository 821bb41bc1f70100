using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>Records journaled from outside a run (<see cref="IWorkflowStore.AppendRunRecordAsync"/>).</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    private static JournalEntry Action(string name, double at) =>
        new() { Sequence = 0, Kind = JournalEntryKind.OperatorAction, Name = name, RecordedAt = T0.AddSeconds(at), Payload = "{\"by\":\"ada\"}" };

    [Fact]
    public async Task RunRecord_IsJournaledWhileAWorkerHoldsTheRun_AndItsNextAppendFollowsIt()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var held = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.True(await store.AppendAsync(held.Lease, [Entry(1, "one")], null, Token));

        Assert.True(await store.AppendRunRecordAsync("r", Action("pause", 1), Token));
        Assert.True(await store.AppendAsync(held.Lease, [Entry(2, "two")], null, Token)); // the holder goes on, fenced as before

        var journal = await store.GetJournalAsync("r", Token);
        Assert.Equal([0L, 1, 2], journal.Select(e => e.Index));
        Assert.Equal([JournalEntryKind.StepCompleted, JournalEntryKind.OperatorAction, JournalEntryKind.StepCompleted], journal.Select(e => e.Kind));
        Assert.Equal(("pause", "{\"by\":\"ada\"}", T0.AddSeconds(1)), (journal[1].Name, journal[1].Payload, journal[1].RecordedAt));
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync("r", Token))!.Status); // the record changes nothing else
    }

    [Fact]
    public async Task RunRecord_ForAnUnknownRun_IsFalse_AndOnlyRunRecordsInNoPositionAreTaken()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");

        Assert.False(await store.AppendRunRecordAsync("nobody", Action("pause", 0), Token));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendRunRecordAsync("r", Entry(1, "one"), Token));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendRunRecordAsync("r", Action("pause", 0) with { Sequence = 3 }, Token));
        Assert.Empty(await store.GetJournalAsync("r", Token));
    }
}
