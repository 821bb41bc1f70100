using Keel.Storage;

namespace Keel.Engine;

/// <summary>Something that waits for a signal in the run's inbox: matched on the executor's loop, in sequence order.</summary>
internal interface ISignalWaiter
{
    int Sequence { get; }

    /// <summary>The inbox name it consumes.</summary>
    string InboxName { get; }

    bool IsResolved { get; }

    /// <summary>Claims the right to end the wait: true once.</summary>
    bool TryResolve();

    /// <summary>Takes the signal (after a successful <see cref="TryResolve"/>): posts what to journal and deliver.</summary>
    void Received(StoredSignal signal);

    /// <summary>Why the signal cannot be taken (its payload does not fit what the wait expects), or null when it can.
    /// A rejected signal is journaled as rejected and consumed; the wait goes on.</summary>
    ErrorInfo? Rejects(StoredSignal signal) => null;

    /// <summary>The JSON kinds of payload this waiter can read, or null when any may do (see <see cref="JsonKinds"/>).</summary>
    IReadOnlyList<string>? PayloadKinds() => null;

    /// <summary>A signal this waiter rejected is being journaled (<paramref name="entry"/>): say so while it waits.</summary>
    void Rejected(JournalEntry entry)
    {
    }
}
