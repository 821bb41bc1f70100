namespace Keel.Storage;

/// <summary>
/// Optional for an <see cref="IWorkflowStore"/>: a store that can push "work may be available" from other processes
/// (PostgreSQL LISTEN/NOTIFY), so an idle worker claims new work at once instead of at its next poll.
/// </summary>
/// <remarks>A wake-up is a hint: the worker still claims through <see cref="IWorkflowStore.ClaimRunsAsync"/> and still
/// polls, so a lost notification only costs latency. Implementations are thread-safe.</remarks>
public interface IStoreWakeup
{
    /// <summary>
    /// A task that completes at the next notification that a run was created, asked to cancel, or released and due,
    /// by any process. Get it before looking for work, then wait on it.
    /// </summary>
    Task WorkAvailable { get; }

    /// <summary>Takes the id of a run that received a signal from any process since the last call, if any: the worker
    /// that holds it looks in its inbox at once instead of at its next lease renewal.</summary>
    /// <param name="runId">The run.</param>
    /// <returns>False when there is none.</returns>
    bool TryTakeSignalledRun(out string runId);

    /// <summary>
    /// From now on, calls <paramref name="onFinished"/> with the id of every run that ends (Completed, Failed,
    /// Cancelled or Blocked) in any process that shares the store, soon after it commits: a client waiting for a run
    /// another process executes learns at once instead of at its next poll. Best effort: a notification lost while the
    /// store reconnects is not repeated, so waiters keep a slow poll.
    /// </summary>
    /// <param name="onFinished">Called with the run id, on a thread of the store's; must be quick and not throw.</param>
    /// <returns>False when this store cannot report them (a wrapper over a store that has no notifications).</returns>
    bool WatchFinishedRuns(Action<string> onFinished);
}
