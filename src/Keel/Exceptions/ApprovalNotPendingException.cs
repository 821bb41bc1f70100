namespace Keel;

/// <summary>A decision was given for an approval the run is not waiting for (never asked, already decided, or expired).</summary>
public sealed class ApprovalNotPendingException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="message">What was wrong and what to do.</param>
    public ApprovalNotPendingException(string runId, string message)
        : base(message)
    {
        RunId = runId;
    }

    /// <summary>The run.</summary>
    public string RunId { get; }
}
