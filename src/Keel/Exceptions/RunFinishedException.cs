namespace Keel;

/// <summary>The operation needs a run that is still in progress, and this one has finished.</summary>
public sealed class RunFinishedException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="status">Its final status.</param>
    /// <param name="operation">What was asked.</param>
    public RunFinishedException(string runId, RunStatus status, string operation)
        : base($"Run '{runId}' has already finished ({status}); it cannot {operation}.")
    {
        RunId = runId;
        Status = status;
    }

    /// <summary>The run.</summary>
    public string RunId { get; }

    /// <summary>Its final status.</summary>
    public RunStatus Status { get; }
}
