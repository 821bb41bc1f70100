namespace Keel;

/// <summary>A run with the requested id exists already, for another workflow.</summary>
public sealed class WorkflowAlreadyExistsException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="existing">The run that holds the id.</param>
    /// <param name="requestedWorkflow">The workflow the caller asked for.</param>
    public WorkflowAlreadyExistsException(RunInfo existing, string requestedWorkflow)
        : base($"Run id '{existing?.RunId}' is already used by a run of workflow '{existing?.WorkflowName}' " +
               $"(status {existing?.Status}); it cannot start workflow '{requestedWorkflow}'. Choose another run id.")
    {
        ArgumentNullException.ThrowIfNull(existing);
        Existing = existing;
    }

    /// <summary>The run that holds the id.</summary>
    public RunInfo Existing { get; }
}
