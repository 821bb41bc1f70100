namespace Keel;

/// <summary>What a journal entry records.</summary>
public enum JournalEntryKind
{
    /// <summary>A step completed with a result (delivered to the workflow).</summary>
    StepCompleted,

    /// <summary>A step failed for good (delivered to the workflow as <see cref="StepFailedException"/>).</summary>
    StepFailed,

    /// <summary>One attempt of a step failed and another is scheduled (not delivered; seen by the next attempt).</summary>
    StepAttemptFailed,

    /// <summary>A durable timer fired (delivered to the workflow).</summary>
    TimerFired,

    /// <summary>Cancellation was delivered to the workflow.</summary>
    CancelRequested,

    /// <summary>A signal the workflow waited for was received (delivered; the payload is the signal's JSON).</summary>
    SignalReceived,

    /// <summary>A wait for a signal timed out (delivered as <see cref="SignalTimeoutException"/>).</summary>
    SignalTimedOut,

    /// <summary>The workflow asked a person for an approval (not delivered: it marks the position and the request).</summary>
    ApprovalRequested,

    /// <summary>An approval was decided or expired (delivered; the payload records who, when, why, and the arguments).</summary>
    ApprovalDecided,

    /// <summary>The run completed.</summary>
    RunCompleted,

    /// <summary>The run failed.</summary>
    RunFailed,

    /// <summary>The run was cancelled.</summary>
    RunCancelled,

    /// <summary>The run was blocked (nondeterminism or quarantine).</summary>
    RunBlocked,
}
