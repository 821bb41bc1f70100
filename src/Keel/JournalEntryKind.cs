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

    /// <summary>An AtMostOnce step's attempt is about to run its body (not delivered: committed first, so a crash
    /// mid-body is known to have left the outcome unknown).</summary>
    StepStarted,

    /// <summary>A step needs a person: its outcome is unknown after a crash, or a precondition did not hold (not delivered).</summary>
    StepNeedsAttention,

    /// <summary>A person (or the step's outcome check) resolved a step that needed attention: retry, complete or fail
    /// (not delivered; the payload says who, when and what).</summary>
    StepResolved,

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

    /// <summary>The workflow started a child run (not delivered: the payload is the child's run id).</summary>
    ChildStarted,

    /// <summary>A child run completed (delivered; the payload is its result).</summary>
    ChildCompleted,

    /// <summary>A child run failed or was cancelled (delivered as <see cref="ChildRunFailedException"/>).</summary>
    ChildFailed,

    /// <summary>The run completed.</summary>
    RunCompleted,

    /// <summary>The run failed.</summary>
    RunFailed,

    /// <summary>The run ended by continuing as a new run (the payload is the new run's id).</summary>
    RunContinuedAsNew,

    /// <summary>The run was cancelled.</summary>
    RunCancelled,

    /// <summary>The run was blocked (nondeterminism or quarantine).</summary>
    RunBlocked,

    /// <summary>A person unblocked the Blocked run (payload: who and why); it continues where it stopped.</summary>
    RunUnblocked,

    /// <summary>A signal whose payload does not fit the type its wait expects was taken from the inbox and set aside (payload:
    /// the signal's payload; error: why); the wait goes on for one that fits.</summary>
    SignalRejected,

    /// <summary>The run took a version of a change (<see cref="WorkflowContext.GetVersion"/>): the name is the change's id,
    /// the payload the version. Not delivered and in no position: inserting a version check does not move the operations
    /// after it, and a marker no code asks for any more is ignored.</summary>
    VersionMarker,

    /// <summary>A person retried the Failed run (payload: who and why): the step whose failure ended it runs again with a
    /// fresh attempt budget, its failures kept; what the run did after that failure is set aside.</summary>
    RunRetried,

    /// <summary>A run was forked (payload: the source, the fork, the position, who and why): recorded in both runs' journals.</summary>
    RunForked,

    /// <summary>A worker took the run and began to run it (name: the worker's id; payload: its host, process and build).
    /// Written with the worker's first write after its claim; in no position, not replayed.</summary>
    RunClaimed,

    /// <summary>The worker holding the run let go of it without ending it (name: the worker's id; payload: the status it
    /// left, when it is due again, the signals it waits for and why): to wait, paused, handed back on shutdown, or after a
    /// failed recovery. In no position, not replayed.</summary>
    RunReleased,

    /// <summary>The workflow said what it is doing (<see cref="WorkflowContext.SetStatus(string, object?)"/>; payload: the status with its
    /// detail and progress, as <see cref="RunCustomStatus"/>). Written with the run's next write that journals entries or
    /// lets go of the run; in no position, not replayed.</summary>
    StatusSet,

    /// <summary>The workflow declared its plan (<see cref="WorkflowContext.Plan"/>; payload: the items, in order). Written
    /// with the run's next write that journals entries or lets go of the run; in no position, not replayed.</summary>
    PlanDeclared,

    /// <summary>A person acted on the run from outside it (name: the action, e.g. <c>pause</c>, <c>resume</c>,
    /// <c>priority</c>, <c>cancel</c>; payload: who, why and the action's value), journaled by
    /// <see cref="Storage.IWorkflowStore.AppendRunRecordAsync"/> whoever holds the run; in no position, not replayed.</summary>
    OperatorAction,

    /// <summary>A durable timer began to wait (payload: its due time, as <c>{"dueAt": ...}</c>), so what the run waits for
    /// and since when is known before the timer fires. Marks the timer's position (a different operation there on replay
    /// is nondeterminism); written with the run's next write that journals entries or lets go of the run, not replayed.</summary>
    TimerStarted,

    /// <summary>A wait for a signal began (payload: its deadline, if it has a timeout, as <c>{"dueAt": ...}</c>), so what
    /// the run waits for and since when is known before a signal arrives. Marks the wait's position; written with the
    /// run's next write that journals entries or lets go of the run, not replayed.</summary>
    SignalWaitStarted,

    /// <summary>A model chose to call a tool (name: the tool; payload: the model and the arguments it chose, as
    /// <c>{"model": ..., "arguments": {...}}</c>), journaled by Keel.AI with the run's next write (the tool's step), so a
    /// person reads what the model decided; in no position, not replayed.</summary>
    ToolChosen,
}
