namespace Keel;

/// <summary>The awaited run ended Failed, Cancelled or Blocked instead of Completed.</summary>
public sealed class WorkflowFailedException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="run">The run as it ended.</param>
    public WorkflowFailedException(RunInfo run)
        : base($"Run '{run?.RunId}' ended {run?.Status}: {run?.Error?.ToString() ?? run?.StatusReason ?? "no error recorded"}")
    {
        ArgumentNullException.ThrowIfNull(run);
        Run = run;
    }

    /// <summary>The run as it ended.</summary>
    public RunInfo Run { get; }
}
