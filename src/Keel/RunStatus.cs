namespace Keel;

/// <summary>Where a run is in its life.</summary>
public enum RunStatus
{
    /// <summary>Started, not yet picked up by a worker.</summary>
    Pending,

    /// <summary>Being executed, or ready to be resumed by the next worker that claims it.</summary>
    Running,

    /// <summary>Waiting for a timer, signal, approval or child run; holds no memory in any worker.</summary>
    Waiting,

    /// <summary>Paused by an operator; resumes only when told.</summary>
    Paused,

    /// <summary>Needs a person's decision (for example an interrupted step with unknown outcome).</summary>
    NeedsAttention,

    /// <summary>Stopped because it cannot continue safely (nondeterminism, or repeated recovery failures).</summary>
    Blocked,

    /// <summary>Finished with a result.</summary>
    Completed,

    /// <summary>Finished with an error.</summary>
    Failed,

    /// <summary>Finished because it was cancelled.</summary>
    Cancelled,
}

/// <summary>Helpers for <see cref="RunStatus"/>.</summary>
public static class RunStatusExtensions
{
    /// <summary>True for Completed, Failed and Cancelled: the run will never change again.</summary>
    /// <param name="status">The status.</param>
    /// <returns>Whether the status is final.</returns>
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled;

    /// <summary>True for Pending, Running and Waiting: a worker may claim the run once it is due. Stores keep a due
    /// time only for these.</summary>
    /// <param name="status">The status.</param>
    /// <returns>Whether a run in this status can be claimed.</returns>
    public static bool IsRunnable(this RunStatus status) =>
        status is RunStatus.Pending or RunStatus.Running or RunStatus.Waiting;
}
