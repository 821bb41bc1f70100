using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>Retrying a Failed run (<see cref="IWorkflowStore.RetryAsync"/>).</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Retry_JournalsWhoAndWhy_ClearsTheFailure_AndMakesTheRunRunnable_OnlyWhenFailed()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var held = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.Equal(RetryOutcome.NotFailed, await store.RetryAsync("r", "{}", T0, Token)); // running
        var failure = new ErrorInfo("Keel.StepFailedException", "Step 'pay' failed after 3 attempt(s): E: 503");
        Assert.True(await store.AppendAsync(held.Lease,
            [Entry(1, "pay") with { Kind = JournalEntryKind.StepFailed, Error = failure }, new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunFailed, Name = "w", RecordedAt = T0, Error = failure }],
            RunUpdate.Finish(RunStatus.Failed, T0, error: failure), Token));
        Assert.NotNull((await store.GetRunAsync("r", Token))!.CompletedAt);

        Assert.Equal(RetryOutcome.Retried, await store.RetryAsync("r", "{\"by\":\"ada\",\"reason\":\"gateway fixed\"}", T0.AddSeconds(5), Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal((RunStatus.Pending, null, null, null), (run.Status, run.Error, run.CompletedAt, run.Owner));
        var journal = await store.GetJournalAsync("r", Token);
        Assert.Equal([JournalEntryKind.StepFailed, JournalEntryKind.RunFailed, JournalEntryKind.RunRetried], journal.Select(e => e.Kind));
        Assert.Equal([0L, 1, 2], journal.Select(e => e.Index));
        Assert.Equal(("{\"by\":\"ada\",\"reason\":\"gateway fixed\"}", T0.AddSeconds(5)), (journal[^1].Payload, journal[^1].RecordedAt));

        var again = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(5))); // runnable now, not as a suspect
        Assert.False(again.Alone);
        Assert.Equal(3, again.JournalLength ?? 3);
        Assert.Equal(RetryOutcome.NotFailed, await store.RetryAsync("r", "{}", T0.AddSeconds(6), Token));
        Assert.Equal(RetryOutcome.NotFound, await store.RetryAsync("nobody", "{}", T0, Token));
    }
}
