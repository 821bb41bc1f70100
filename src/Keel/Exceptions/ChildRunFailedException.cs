namespace Keel;

/// <summary>A child run the workflow waited for ended Failed, Cancelled or Blocked.</summary>
public sealed class ChildRunFailedException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="childRunId">The child run.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="error">Its error, if any.</param>
    public ChildRunFailedException(string childRunId, RunStatus status, ErrorInfo? error)
        : base($"Child run '{childRunId}' ended {status}{(error is null ? "." : $": {error.Type}: {error.Message}")}")
    {
        ChildRunId = childRunId;
        Status = status;
        Error = error;
    }

    /// <summary>The child run.</summary>
    public string ChildRunId { get; }

    /// <summary>How it ended.</summary>
    public RunStatus Status { get; }

    /// <summary>Its error, if any.</summary>
    public ErrorInfo? Error { get; }
}
