namespace Keel;

/// <summary>No workflow of the given name is registered.</summary>
public sealed class WorkflowNotFoundException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowName">The unknown name.</param>
    /// <param name="registered">The names that are registered.</param>
    public WorkflowNotFoundException(string workflowName, IEnumerable<string> registered)
        : base($"No workflow named '{workflowName}' is registered. Registered workflows: " +
               $"{(registered.Any() ? string.Join(", ", registered.Order(StringComparer.Ordinal)) : "(none)")}. " +
               "Check the name, or register the workflow with AddWorkflow<T>() on the worker.")
        => WorkflowName = workflowName;

    /// <summary>Creates the exception for a workflow that no worker seen lately serves.</summary>
    /// <param name="workflowName">The unknown name.</param>
    /// <param name="served">The workflows the workers seen lately serve.</param>
    /// <param name="window">How far back workers count as seen.</param>
    public WorkflowNotFoundException(string workflowName, IEnumerable<string> served, TimeSpan window)
        : base($"No worker seen in the last {window.TotalDays:0.##} days serves a workflow named '{workflowName}'. Workflows the workers serve: " +
               $"{(served.Any() ? string.Join(", ", served.Order(StringComparer.Ordinal)) : "(none: no worker has registered)")}. " +
               "Check the name; or start a worker that serves it; or, to queue the run for workers deployed later, allow unknown workflows on this start.")
        => WorkflowName = workflowName;

    /// <summary>The unknown name.</summary>
    public string WorkflowName { get; }
}
