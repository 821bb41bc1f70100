namespace Keel;

/// <summary>A child run did not finish within the timeout its parent gave (<see cref="WorkflowContext.RunChildAsync{TInput, TResult}"/>);
/// the child was asked to cancel.</summary>
public sealed class ChildRunTimeoutException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="childRunId">The child run.</param>
    /// <param name="timeout">How long the parent waited.</param>
    public ChildRunTimeoutException(string childRunId, TimeSpan timeout)
        : base($"Child run '{childRunId}' did not finish within {timeout}; it was asked to cancel.")
    {
        ChildRunId = childRunId;
        Timeout = timeout;
    }

    /// <summary>The child run.</summary>
    public string ChildRunId { get; }

    /// <summary>How long the parent waited.</summary>
    public TimeSpan Timeout { get; }
}
