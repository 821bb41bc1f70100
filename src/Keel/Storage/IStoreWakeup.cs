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
}
