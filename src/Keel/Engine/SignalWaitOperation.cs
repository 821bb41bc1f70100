using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary><see cref="WorkflowContext.WaitForSignalAsync{T}"/>: takes the oldest unconsumed signal of its name.</summary>
internal sealed class SignalWaitOperation<T>(int sequence, string name, DateTimeOffset? deadline, TimeSpan? timeout)
    : InboxWaitOperation(sequence, name, name, deadline)
{
    // Synchronous continuations, as for steps: delivery order is journal order.
    private readonly TaskCompletionSource<T> _tcs = new();

    public Task<T> Task => _tcs.Task;

    public override string Describe() => $"signal '{Name}'";

    protected override JournalEntry ReceivedEntry(StoredSignal signal, RunExecutor executor) => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.SignalReceived, Name = Name, RecordedAt = executor.Now, StartedAt = signal.SentAt,
        Payload = signal.Payload,
    };

    protected override JournalEntry ExpiredEntry(RunExecutor executor) => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.SignalTimedOut, Name = Name, RecordedAt = executor.Now, StartedAt = Deadline,
    };

    protected override void Deliver(JournalEntry entry, RunExecutor executor)
    {
        if (entry.Kind == JournalEntryKind.SignalTimedOut)
        {
            _tcs.TrySetException(new SignalTimeoutException(Name, timeout ?? TimeSpan.Zero));
            return;
        }
        try
        {
            _tcs.TrySetResult(entry.Payload is null ? default! : KeelJson.Deserialize<T>(entry.Payload, executor.SerializerOptions)!);
        }
        catch (JsonException ex)
        {
            _tcs.TrySetException(new SignalPayloadException(Name, typeof(T), entry.Payload, ex));
        }
    }

    protected override void CancelCore(CancellationToken token) => _tcs.TrySetCanceled(token);
}
