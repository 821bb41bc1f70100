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

    /// <summary>The unknown name.</summary>
    public string WorkflowName { get; }
}
