using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary><see cref="WorkflowContext.WaitForSignalAsync{T}"/>: takes the oldest unconsumed signal of its name.</summary>
internal sealed class SignalWaitOperation<T>(IOperationHost host, int sequence, string name, DateTimeOffset? deadline, TimeSpan? timeout)
    : InboxWaitOperation(host, sequence, name, name, deadline)
{
    // Synchronous continuations, as for steps: delivery order is journal order.
    private readonly TaskCompletionSource<T> _tcs = new();

    public Task<T> Task => _tcs.Task;

    public override string Describe() => $"signal '{Name}'";

    protected override JournalEntry ReceivedEntry(StoredSignal signal) => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.SignalReceived, Name = Name, RecordedAt = Host.Now, StartedAt = signal.SentAt,
        Payload = signal.Payload,
    };

    protected override JournalEntry ExpiredEntry() => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.SignalTimedOut, Name = Name, RecordedAt = Host.Now, StartedAt = Deadline,
    };

    protected override void CompleteWait(JournalEntry entry)
    {
        if (entry.Kind == JournalEntryKind.SignalTimedOut)
        {
            _tcs.TrySetException(new SignalTimeoutException(Name, timeout ?? TimeSpan.Zero));
            return;
        }
        try
        {
            _tcs.TrySetResult(entry.Payload is null ? default! : KeelJson.Deserialize<T>(entry.Payload, Host.SerializerOptions)!);
        }
        catch (JsonException ex)
        {
            _tcs.TrySetException(new SignalPayloadException(Name, typeof(T), entry.Payload, ex));
        }
    }

    protected override void CancelCore(CancellationToken token) => _tcs.TrySetCanceled(token);

    /// <summary>A payload that does not read as <typeparamref name="T"/> is set aside (the run goes on waiting), never
    /// delivered: once taken, a signal cannot be sent again, and failing the run for a sender's mistake loses it.</summary>
    public override ErrorInfo? Rejects(StoredSignal signal)
    {
        if (signal.Payload is null)
        {
            return null;
        }
        try
        {
            _ = KeelJson.Deserialize<T>(signal.Payload, Host.SerializerOptions);
            return null;
        }
        catch (JsonException ex)
        {
            return new ErrorInfo(typeof(SignalPayloadException).FullName!,
                $"The payload of signal '{Name}' is not a {typeof(T).Name}: {ex.Message}") { IsTerminal = true };
        }
    }

    public override void Rejected(JournalEntry entry) => WaitNote = NoteFor(entry);

    public override IReadOnlyList<string>? PayloadKinds() => JsonKinds.For(typeof(T), Host.SerializerOptions);

    /// <summary>What the run says while it waits on after setting a signal aside.</summary>
    public static string NoteFor(JournalEntry rejected) =>
        $"A signal '{rejected.Name}' sent {rejected.StartedAt ?? rejected.RecordedAt:u} was set aside: {rejected.Error?.Message} " +
        "The run waits for one that fits.";
}
