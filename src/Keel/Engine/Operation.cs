using Keel.Storage;

namespace Keel.Engine;

/// <summary>A durable operation the workflow code asked for and that has no delivered outcome yet.</summary>
internal abstract class Operation(int sequence, string name)
{
    public int Sequence { get; } = sequence;

    public string Name { get; } = name;

    /// <summary>True once the outcome was delivered to the workflow (or the operation was cancelled).</summary>
    public bool IsDone { get; protected set; }

    public bool IsStarted { get; protected set; }

    /// <summary>Asked for inside <see cref="WorkflowContext.NonCancellable"/>: the run's cancellation does not end it, and
    /// it waits or runs on a token only the worker's shutdown fires.</summary>
    public bool IsCleanup { get; init; }

    /// <summary>Why the operation waits for a person (NeedsAttention), while it does; otherwise null.</summary>
    public string? AttentionReason
    {
        get => Volatile.Read(ref _attentionReason);
        set => Volatile.Write(ref _attentionReason, value);
    }

    private string? _attentionReason;

    /// <summary>What a person should know about the wait (a signal it set aside), shown while the run waits; or null.</summary>
    public string? WaitNote
    {
        get => Volatile.Read(ref _waitNote);
        set => Volatile.Write(ref _waitNote, value);
    }

    private string? _waitNote;

    /// <summary>When the operation sleeps until a due time (a retry backoff, a timer, a wait's deadline), that time
    /// (<see cref="DateTimeOffset.MaxValue"/> for a wait without one); otherwise null.</summary>
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

    /// <summary>Delivers an outcome read from the journal.</summary>
    public abstract void DeliverRecorded(JournalEntry entry, RunExecutor executor);

    /// <summary>Starts executing the operation live.</summary>
    public abstract void Start(RunExecutor executor);

    /// <summary>Ends the operation with cancellation (the run was cancelled).</summary>
    public abstract void Cancel(CancellationToken token);

    public abstract string Describe();

    /// <summary>For an operation that runs user code when started (a step body): where a crash of the process would be.</summary>
    public virtual RecoveryPointData? RecoveryPoint() => null;
}

/// <summary>
/// An item of the executor's queue: a live outcome to journal and deliver, an entry to journal only, a cancellation,
/// a status, a look at the signal inbox, or a wake-up. Outcomes may carry inbox changes committed with their entry.
/// </summary>
internal sealed record InboxItem(InboxItemKind Kind, Operation? Operation = null, JournalEntry? Entry = null, Action? Deliver = null,
    RunCustomStatus? Status = null, long? ConsumedSignal = null, ApprovalRecord? OpenApproval = null, int? ClosedApproval = null,
    ISignalWaiter? Waiter = null)
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
