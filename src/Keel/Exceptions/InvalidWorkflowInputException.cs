namespace Keel;

/// <summary>A run's input is not valid JSON for the workflow's input type.</summary>
public sealed class InvalidWorkflowInputException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workflowName">The workflow.</param>
    /// <param name="inputType">The type the input must deserialize into.</param>
    /// <param name="innerException">The parser's error.</param>
    public InvalidWorkflowInputException(string workflowName, Type inputType, Exception innerException)
        : base($"The input for workflow '{workflowName}' is not valid JSON for {inputType?.Name}: {innerException?.Message} " +
               "Fix the input and start the run again; nothing was stored.", innerException)
        => WorkflowName = workflowName;

    /// <summary>The workflow.</summary>
    public string WorkflowName { get; }
}
