namespace Keel.Storage;

/// <summary>What a fork request did (<see cref="IWorkflowStore.ForkAsync"/>).</summary>
public enum ForkOutcome
{
    /// <summary>No run has the source's id; nothing was created.</summary>
    SourceNotFound,

    /// <summary>A run with the fork's id exists already; nothing was created.</summary>
    IdTaken,

    /// <summary>The fork was created and both journals record it.</summary>
    Forked,
}
