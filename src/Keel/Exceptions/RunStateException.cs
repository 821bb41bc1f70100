namespace Keel;

/// <summary>The operation does not apply to the run in its current state (for example resuming a run that is not paused).</summary>
public sealed class RunStateException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="status">Its status.</param>
    /// <param name="operation">What was asked.</param>
    public RunStateException(string runId, RunStatus status, string operation)
        : base($"Run '{runId}' is {status}; it cannot {operation}.")
    {
        RunId = runId;
        Status = status;
    }

    /// <summary>The run.</summary>
    public string RunId { get; }

    /// <summary>Its status.</summary>
    public RunStatus Status { get; }
}
