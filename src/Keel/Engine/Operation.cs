namespace Keel.Engine;

/// <summary>A durable operation the workflow code asked for and that has no delivered outcome yet.</summary>
internal abstract class Operation(int sequence, string name)
{
    public int Sequence { get; } = sequence;

    public string Name { get; } = name;

    /// <summary>True once the outcome was delivered to the workflow (or the operation was cancelled).</summary>
    public bool IsDone { get; protected set; }

    public bool IsStarted { get; protected set; }

    /// <summary>When the operation sleeps until a due time (a retry backoff), that time; otherwise null.</summary>
    public DateTimeOffset? WaitingUntil
    {
        get
        {
            var ticks = Interlocked.Read(ref _waitingUntilTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
        protected set => Interlocked.Exchange(ref _waitingUntilTicks, value?.UtcTicks ?? 0);
    }

    private long _waitingUntilTicks;

    /// <summary>Delivers an outcome read from the journal.</summary>
    public abstract void DeliverRecorded(JournalEntry entry, RunExecutor executor);

    /// <summary>Starts executing the operation live.</summary>
    public abstract void Start(RunExecutor executor);

    /// <summary>Ends the operation with cancellation (the run was cancelled).</summary>
    public abstract void Cancel(CancellationToken token);

    public abstract string Describe();
}

/// <summary>An item of a run's inbox: a live outcome to journal and deliver, a cancellation, or a wake-up.</summary>
internal sealed record InboxItem(InboxItemKind Kind, Operation? Operation = null, JournalEntry? Entry = null, Action? Deliver = null,
    RunCustomStatus? Status = null)
{
    public static readonly InboxItem Wake = new(InboxItemKind.Wake);
}

internal enum InboxItemKind
{
    Outcome,
    Cancel,
    Wake,
    Status,
}
