using Keel.Storage;

namespace Keel.Engine;

/// <summary>A durable operation the workflow code asked for and that has no delivered outcome yet. It executes live
/// through its <see cref="IOperationHost"/>, and ends only by <see cref="Deliver"/> (from a journaled entry) or
/// <see cref="Cancel"/>.</summary>
internal abstract class Operation(IOperationHost host, int sequence, string name) : IMachineOperation
{
    protected IOperationHost Host { get; } = host;

    public int Sequence { get; } = sequence;

    public string Name { get; } = name;

    public bool IsDone { get; protected set; }

    public bool IsStarted { get; protected set; }

    public bool IsCleanup { get; init; }

    public string? AttentionNote
    {
        get => Volatile.Read(ref _attentionNote);
        set => Volatile.Write(ref _attentionNote, value);
    }

    private string? _attentionNote;

    public string? WaitNote
    {
        get => Volatile.Read(ref _waitNote);
        set => Volatile.Write(ref _waitNote, value);
    }

    private string? _waitNote;

    public DateTimeOffset? WaitingUntil
    {
        get
        {
            var ticks = Interlocked.Read(ref _waitingUntilTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
        set => Interlocked.Exchange(ref _waitingUntilTicks, value?.UtcTicks ?? 0);
    }

    private long _waitingUntilTicks;

    /// <summary>A token for what the operation runs or waits on: the run's (fires when the run is cancelled), or for a
    /// cleanup operation one that only the executor's stop fires.</summary>
    protected CancellationToken Token => IsCleanup ? Host.AbortToken : Host.RunToken;

    public void Deliver(JournalEntry entry)
    {
        IsDone = true;
        Complete(entry);
    }

    /// <summary>Completes the code's task from the entry (a replayed or a live outcome alike).</summary>
    protected abstract void Complete(JournalEntry entry);

    /// <summary>Starts executing the operation live.</summary>
    public abstract void Start();

    /// <summary>Ends the operation with cancellation (the run was cancelled).</summary>
    public abstract void Cancel(CancellationToken token);

    public abstract string Describe();

    public virtual RecoveryPointData? RecoveryPoint() => null;

    /// <summary>Proposes a live outcome: the executor journals it, then delivers it through <see cref="Deliver"/>.</summary>
    protected void PostOutcome(JournalEntry entry, long? consumedSignal = null, int? closedApproval = null) =>
        Host.Post(new InboxItem(InboxItemKind.Outcome, this, entry, ConsumedSignal: consumedSignal, ClosedApproval: closedApproval));
}

/// <summary>
/// An item of the executor's queue: a live outcome to journal and deliver, an entry to journal only (acknowledged once
/// committed, when <see cref="Committed"/> is set), a cancellation, a status, a look at the signal inbox, or a wake-up.
/// Outcomes and records may carry inbox changes committed with their entry.
/// </summary>
internal sealed record InboxItem(InboxItemKind Kind, IMachineOperation? Operation = null, JournalEntry? Entry = null,
    RunCustomStatus? Status = null, long? ConsumedSignal = null, ApprovalRecord? OpenApproval = null, int? ClosedApproval = null,
    ISignalWaiter? Waiter = null, TaskCompletionSource? Committed = null, TokenTotals? Tokens = null)
{
    public static readonly InboxItem Wake = new(InboxItemKind.Wake);

    public static readonly InboxItem CheckSignals = new(InboxItemKind.Signals);
}

internal enum InboxItemKind
{
    Outcome,
    Record,
    Cancel,
    Wake,
    Status,
    Signals,
}
