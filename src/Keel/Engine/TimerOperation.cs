namespace Keel.Engine;

/// <summary>A durable timer. Its fire time derives from the replay-safe clock, so only the firing is journaled.</summary>
internal sealed class TimerOperation(IOperationHost host, int sequence, string name, DateTimeOffset due) : Operation(host, sequence, name)
{
    // Synchronous continuations, as for steps: delivery order is journal order.
    private readonly TaskCompletionSource _tcs = new();

    public Task Task => _tcs.Task;

    public override string Describe() => $"timer '{Name}'";

    protected override void Complete(JournalEntry entry) => _tcs.TrySetResult();

    public override void Cancel(CancellationToken token)
    {
        IsDone = true;
        _tcs.TrySetCanceled(token);
    }

    public override void Start()
    {
        IsStarted = true;
        _ = WaitAsync();
    }

    private async Task WaitAsync()
    {
        var token = Token;
        try
        {
            WaitingUntil = due;
            Host.Wake(); // the executor may release the run from memory until the timer is due
            await Host.DelayUntilAsync(due, token);
            WaitingUntil = null;
            PostOutcome(new JournalEntry { Sequence = Sequence, Kind = JournalEntryKind.TimerFired, Name = Name, RecordedAt = Host.Now, StartedAt = due });
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // the run is going away; the timer is journaled only when it fires
        }
    }
}
