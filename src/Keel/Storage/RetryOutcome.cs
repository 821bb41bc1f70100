namespace Keel.Storage;

/// <summary>What a retry request did (<see cref="IWorkflowStore.RetryAsync"/>).</summary>
public enum RetryOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run is not Failed; nothing was changed.</summary>
    NotFailed,

    /// <summary>Retried: the run is runnable now.</summary>
    Retried,
}
