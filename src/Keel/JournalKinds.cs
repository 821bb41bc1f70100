namespace Keel;

/// <summary>The kind of durable operation a journal entry belongs to.</summary>
public enum OperationKind
{
    /// <summary>Not an operation of the workflow code: a run-level record (completed, blocked, unblocked...).</summary>
    None,

    /// <summary>A step (<see cref="WorkflowContext.StepAsync{T}"/>).</summary>
    Step,

    /// <summary>A durable timer (<see cref="WorkflowContext.SleepAsync"/>).</summary>
    Timer,

    /// <summary>A wait for a signal (<see cref="WorkflowContext.WaitForSignalAsync{T}"/>).</summary>
    Signal,

    /// <summary>An approval (<see cref="WorkflowContext.RequestApprovalAsync{TArgs}"/>).</summary>
    Approval,

    /// <summary>A child run (<see cref="WorkflowContext.RunChildAsync{TInput, TResult}"/>).</summary>
    ChildRun,

    /// <summary>The run's cancellation, delivered to the workflow code.</summary>
    Cancellation,

    /// <summary>A version of a change the run took (<see cref="WorkflowContext.GetVersion"/>).</summary>
    Version,
}

/// <summary>What an entry does on replay.</summary>
public enum EntryRole
{
    /// <summary>The outcome of an operation: delivered to the workflow code, in journal order. It ends the operation.</summary>
    Outcome,

    /// <summary>A record of a step still open (an attempt failed or started, a person was asked or decided): folded into
    /// the step's state, not delivered.</summary>
    StepRecord,

    /// <summary>Marks that an operation began (an approval asked for, a child run started): not delivered.</summary>
    Marker,

    /// <summary>A signal a wait set aside; the wait goes on. Not delivered.</summary>
    Rejection,

    /// <summary>The run's cancellation: delivered to the workflow code, in journal order.</summary>
    Cancellation,

    /// <summary>A run-level record for people (ended, blocked, unblocked): not part of replay.</summary>
    RunRecord,

    /// <summary>A version the run took of a change, read by the change's id wherever the code asks: in no position, not delivered.</summary>
    Version,

    /// <summary>A person retried the failed run: the step failure that ended it is reopened (a failed attempt, with a fresh
    /// budget after it), and what the run recorded after that failure is set aside.</summary>
    Retry,
}

/// <summary>
/// The one reading of journal entry kinds: which operation each belongs to and what it does on replay. The engine, the
/// read model of a run and every consumer go through it instead of listing kinds themselves, so a new
/// kind is described here once.
/// </summary>
public static class JournalKinds
{
    /// <summary>The operation an entry of this kind belongs to.</summary>
    /// <param name="kind">The entry's kind.</param>
    /// <returns>The operation kind.</returns>
    public static OperationKind OperationOf(JournalEntryKind kind) => kind switch
    {
        JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.StepAttemptFailed or JournalEntryKind.StepStarted
            or JournalEntryKind.StepNeedsAttention or JournalEntryKind.StepResolved => OperationKind.Step,
        JournalEntryKind.TimerFired or JournalEntryKind.TimerStarted => OperationKind.Timer,
        JournalEntryKind.SignalReceived or JournalEntryKind.SignalTimedOut or JournalEntryKind.SignalRejected
            or JournalEntryKind.SignalWaitStarted => OperationKind.Signal,
        JournalEntryKind.ApprovalRequested or JournalEntryKind.ApprovalDecided => OperationKind.Approval,
        JournalEntryKind.ChildStarted or JournalEntryKind.ChildCompleted or JournalEntryKind.ChildFailed => OperationKind.ChildRun,
        JournalEntryKind.CancelRequested => OperationKind.Cancellation,
        JournalEntryKind.VersionMarker => OperationKind.Version,
        _ => OperationKind.None,
    };

    /// <summary>What an entry of this kind does on replay.</summary>
    /// <param name="kind">The entry's kind.</param>
    /// <returns>Its role.</returns>
    public static EntryRole RoleOf(JournalEntryKind kind) => kind switch
    {
        JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.TimerFired or JournalEntryKind.SignalReceived
            or JournalEntryKind.SignalTimedOut or JournalEntryKind.ApprovalDecided or JournalEntryKind.ChildCompleted
            or JournalEntryKind.ChildFailed => EntryRole.Outcome,
        JournalEntryKind.StepAttemptFailed or JournalEntryKind.StepStarted or JournalEntryKind.StepNeedsAttention
            or JournalEntryKind.StepResolved => EntryRole.StepRecord,
        JournalEntryKind.ApprovalRequested or JournalEntryKind.ChildStarted or JournalEntryKind.TimerStarted
            or JournalEntryKind.SignalWaitStarted => EntryRole.Marker,
        JournalEntryKind.SignalRejected => EntryRole.Rejection,
        JournalEntryKind.CancelRequested => EntryRole.Cancellation,
        JournalEntryKind.VersionMarker => EntryRole.Version,
        JournalEntryKind.RunRetried => EntryRole.Retry,
        _ => EntryRole.RunRecord,
    };

    /// <summary>
    /// Whether an entry of this kind is an annotation: a record about the run that depends on how it was scheduled and
    /// handled, not on its code — which worker took or let go of it, what it said it was doing, the plan it declared, what
    /// a person did to it, when a wait began (it rides whatever the run writes next). Never replayed; two runs of the same
    /// code may hold different annotations, and in different places.
    /// </summary>
    /// <param name="kind">The entry's kind.</param>
    /// <returns>True for an annotation.</returns>
    public static bool IsAnnotation(JournalEntryKind kind) =>
        kind is JournalEntryKind.RunClaimed or JournalEntryKind.RunReleased or JournalEntryKind.StatusSet or JournalEntryKind.PlanDeclared
            or JournalEntryKind.OperatorAction or JournalEntryKind.TimerStarted or JournalEntryKind.SignalWaitStarted
            or JournalEntryKind.ToolChosen;

    /// <summary>Whether an entry of this kind ends its operation with an outcome that is a success (completed, fired,
    /// received, decided) rather than a failure.</summary>
    /// <param name="kind">The entry's kind.</param>
    /// <returns>True for a successful outcome.</returns>
    public static bool IsSuccess(JournalEntryKind kind) =>
        kind is JournalEntryKind.StepCompleted or JournalEntryKind.TimerFired or JournalEntryKind.SignalReceived
            or JournalEntryKind.ApprovalDecided or JournalEntryKind.ChildCompleted;

    /// <summary>The operation kind in words, as messages name it ("step", "child run").</summary>
    /// <param name="kind">The operation kind.</param>
    /// <returns>The noun.</returns>
    public static string Noun(OperationKind kind) => kind switch
    {
        OperationKind.Step => "step",
        OperationKind.Timer => "timer",
        OperationKind.Signal => "signal",
        OperationKind.Approval => "approval",
        OperationKind.ChildRun => "child run",
        OperationKind.Cancellation => "cancellation",
        OperationKind.Version => "version of change",
        _ => "run",
    };

    /// <summary>An entry's operation in words, for messages: "step 'charge'", "a cancellation".</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The description.</returns>
    public static string Describe(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return OperationOf(entry.Kind) switch
        {
            OperationKind.Cancellation => "a cancellation",
            OperationKind.None => $"{entry.Kind} '{entry.Name}'",
            var kind => $"{Noun(kind)} '{entry.Name}'",
        };
    }
}
