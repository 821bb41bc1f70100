namespace Keel.Engine;

/// <summary>A durable timer. Its fire time derives from the replay-safe clock, so only the firing is journaled.</summary>
internal sealed class TimerOperation(int sequence, string name, DateTimeOffset due) : Operation(sequence, name)
{
    // Synchronous continuations, as for steps: delivery order is journal order.
    private readonly TaskCompletionSource _tcs = new();

    public Task Task => _tcs.Task;

    public override string Describe() => $"timer '{Name}'";

    public override void DeliverRecorded(JournalEntry entry, RunExecutor executor) => Fire();

    public override void Cancel(CancellationToken token)
    {
        IsDone = true;
        _tcs.TrySetCanceled(token);
    }

    public override void Start(RunExecutor executor)
    {
        IsStarted = true;
        _ = WaitAsync(executor);
    }

    private async Task WaitAsync(RunExecutor executor)
    {
        var token = IsCleanup ? executor.AbortToken : executor.RunToken;
        try
        {
            WaitingUntil = due;
            executor.Post(InboxItem.Wake); // the executor may release the run from memory until the timer is due
            await executor.DelayUntilAsync(due, token);
            WaitingUntil = null;
            var fired = new JournalEntry { Sequence = Sequence, Kind = JournalEntryKind.TimerFired, Name = Name, RecordedAt = executor.Now, StartedAt = due };
            executor.Post(new InboxItem(InboxItemKind.Outcome, this, fired, Fire));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // the run is going away; the timer is journaled only when it fires
        }
    }

    private void Fire()
    {
        IsDone = true;
        _tcs.TrySetResult();
    }
}
