using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// An operation that waits for a signal in the run's inbox (a user signal, or the decision on an approval), optionally
/// until a deadline. The executor matches arrived signals to waiters in sequence order; the deadline and a signal race
/// through <see cref="TryResolve"/>, so exactly one outcome is journaled.
/// </summary>
internal abstract class InboxWaitOperation(IOperationHost host, int sequence, string name, string inboxName, DateTimeOffset? deadline)
    : Operation(host, sequence, name), ISignalWaiter
{
    private int _resolved;

    /// <summary>The inbox name the operation consumes.</summary>
    public string InboxName { get; } = inboxName;

    public DateTimeOffset? Deadline { get; } = deadline;

    public bool IsResolved => Volatile.Read(ref _resolved) == 1;

    /// <summary>Claims the right to end the wait: true once, for whichever of signal, deadline or cancellation came first.</summary>
    public bool TryResolve() => Interlocked.Exchange(ref _resolved, 1) == 0;

    public override void Start()
    {
        IsStarted = true;
        Host.AddSignalWaiter(this); // before it counts as waiting: a release must name the signal it waits for
        WaitingUntil = Deadline ?? DateTimeOffset.MaxValue; // waiting, so the executor may release the run from memory
        if (Deadline is { } deadline)
        {
            _ = ExpireAsync(deadline);
        }
    }

    public override void Cancel(CancellationToken token)
    {
        TryResolve();
        IsDone = true;
        CancelCore(token);
    }

    protected override void Complete(JournalEntry entry)
    {
        TryResolve();
        CompleteWait(entry);
    }

    /// <summary>Proposes the outcome of a signal this operation took: journaled, then delivered.</summary>
    public void Received(StoredSignal signal)
    {
        WaitingUntil = null;
        PostOutcome(ReceivedEntry(signal), signal.Id, ClosesApproval);
    }

    /// <summary>Why a signal cannot be taken (see <see cref="ISignalWaiter.Rejects"/>); by default every one can.</summary>
    public virtual ErrorInfo? Rejects(StoredSignal signal) => null;

    /// <summary>The JSON kinds of payload this wait can read (see <see cref="ISignalWaiter.PayloadKinds"/>); by default any.</summary>
    public virtual IReadOnlyList<string>? PayloadKinds() => null;

    /// <summary>A signal this wait rejected was journaled.</summary>
    public virtual void Rejected(JournalEntry entry)
    {
    }

    /// <summary>Writes the journal entry for a signal taken live.</summary>
    protected abstract JournalEntry ReceivedEntry(StoredSignal signal);

    /// <summary>Writes the journal entry for the deadline passing.</summary>
    protected abstract JournalEntry ExpiredEntry();

    /// <summary>Completes the workflow's task from a journaled outcome (live or replayed alike).</summary>
    protected abstract void CompleteWait(JournalEntry entry);

    protected abstract void CancelCore(CancellationToken token);

    /// <summary>The approval this wait closes when it ends, if it is one.</summary>
    protected virtual int? ClosesApproval => null;

    private async Task ExpireAsync(DateTimeOffset deadline)
    {
        var token = Token;
        try
        {
            await Host.DelayUntilAsync(deadline, token);
            if (TryResolve())
            {
                WaitingUntil = null;
                PostOutcome(ExpiredEntry(), closedApproval: ClosesApproval);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // the run is going away; the wait is journaled only when it ends
        }
    }

    /// <summary>The signal's payload as Keel's own record (an approval decision, a child's outcome); null when there is
    /// none or it does not parse, which the operation journals and reports as it sees fit.</summary>
    protected static TData? ReadPayload<TData>(StoredSignal signal) where TData : class => KeelJson.TryRead<TData>(signal.Payload);
}
