using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// The one door to a run's journal and row for the worker that holds it: every append (outcomes, records of steps,
/// releases, endings) goes through <see cref="AppendAsync"/>, fenced by the lease. An append the store refuses because
/// another worker holds the run throws <see cref="LeaseLostException"/>: nothing was written and the run must be dropped.
/// </summary>
internal sealed class FencedWriter(IWorkflowStore store, RunLease lease, Action onProgress)
{
    private volatile bool _releasing;

    public RunLease Lease => lease;

    /// <summary>True once an append gave up (or began to give up) the lease: released, paused, finished.</summary>
    public bool HasReleased => _releasing;

    /// <summary>Appends under the lease; progress (entries), a release, or a recovery is reported to the holder.</summary>
    public async Task AppendAsync(IReadOnlyList<JournalEntry> entries, RunUpdate? change, CancellationToken cancellationToken)
    {
        if (change is { Transition.ReleaseLease: true })
        {
            _releasing = true; // from here on, the lease is not lost when a renewal no longer finds it
        }
        if (!await store.AppendAsync(lease, entries, change, cancellationToken))
        {
            throw new LeaseLostException();
        }
        if (entries.Count > 0 || change is { Transition.ReleaseLease: true } or { Recovery.Recovered: true })
        {
            onProgress();
        }
    }
}

/// <summary>The run's lease was taken by another worker: this one must drop the run without writing.</summary>
internal sealed class LeaseLostException() : Exception("The run's lease is held by another worker.");
