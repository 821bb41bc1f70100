using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// The one door to a run's journal and row for the worker that holds it: every append (outcomes, records of steps,
/// releases, endings) goes through <see cref="AppendAsync"/>, fenced by the lease. An append the store refuses because
/// another worker holds the run throws <see cref="LeaseLostException"/>: nothing was written and the run must be dropped.
/// </summary>
/// <remarks>
/// With a <see cref="WorkerStamp"/>, the writes say who holds the run, so that a person reads from the journal alone
/// which worker ran what and where one stopped: the first append of the claim begins with a
/// <see cref="JournalEntryKind.RunClaimed"/> record, and an append that lets go of the run without ending it ends with a
/// <see cref="JournalEntryKind.RunReleased"/> record. Both ride appends the worker makes anyway (no write of their own),
/// and only appends the store already counts as progress or a release.
/// </remarks>
internal sealed class FencedWriter(IWorkflowStore store, RunLease lease, Action onProgress, WorkerStamp? stamp = null, DateTimeOffset claimedAt = default)
{
    private volatile bool _releasing;
    private bool _claimRecorded = stamp is null;

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
        var written = Stamped(entries, change);
        if (!await store.AppendAsync(lease, written, change, cancellationToken))
        {
            throw new LeaseLostException();
        }
        _claimRecorded |= written.Count > 0 && written[0].Kind == JournalEntryKind.RunClaimed;
        if (entries.Count > 0 || change is { Transition.ReleaseLease: true } or { Recovery.Recovered: true })
        {
            onProgress();
        }
    }

    private IReadOnlyList<JournalEntry> Stamped(IReadOnlyList<JournalEntry> entries, RunUpdate? change)
    {
        // Only on appends that already count as progress or a release for the store: a record riding a recovery point
        // would read as progress and clear the blame a suspect's death must carry.
        if (stamp is null || entries.Count == 0 && change?.Transition is not { ReleaseLease: true })
        {
            return entries;
        }
        var claim = _claimRecorded ? null : new JournalEntry
        {
            Sequence = 0, Kind = JournalEntryKind.RunClaimed, Name = stamp.WorkerId, RecordedAt = claimedAt,
            Payload = stamp.ClaimPayload,
        };
        // Letting go without an ending (an ending has its own entry): to wait, paused, handed back, a failed recovery.
        var transition = change?.Transition;
        var lettingGo = transition is { ReleaseLease: true } && (transition.Status is not { } left || !left.IsTerminal() && left != RunStatus.Blocked);
        var release = lettingGo ? new JournalEntry
        {
            Sequence = 0, Kind = JournalEntryKind.RunReleased, Name = stamp.WorkerId, RecordedAt = change!.At,
            Payload = new ReleaseData(transition!.Status, transition.DueAt, transition.WaitsForSignals, transition.StatusReason).ToJson(),
        } : null;
        if (claim is null && release is null)
        {
            return entries;
        }
        var stamped = new List<JournalEntry>(entries.Count + 2);
        if (claim is not null)
        {
            stamped.Add(claim);
        }
        stamped.AddRange(entries);
        if (release is not null)
        {
            stamped.Add(release);
        }
        return stamped;
    }
}

/// <summary>The run's lease was taken by another worker: this one must drop the run without writing.</summary>
internal sealed class LeaseLostException() : Exception("The run's lease is held by another worker.");
