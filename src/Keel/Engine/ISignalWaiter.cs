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
    void Received(StoredSignal signal, RunExecutor executor);
}
