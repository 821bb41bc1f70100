namespace Keel;

/// <summary>
/// One run as its journal tells it: its operations by position (steps with their attempts, timers, signal waits,
/// approvals, child runs) and where each is, what the open ones wait for, the decisions people took, the step that
/// waits for a person, and what happened to the run as a whole. Built by <see cref="Build"/> from a run and its
/// journal (<see cref="KeelClient.GetHistoryAsync"/>); every consumer (client, guards, CLI, HTTP API, dashboard) reads
/// runs through it instead of interpreting journal entries itself.
/// </summary>
/// <remarks>
/// Immutable and built from data only: the same journal always gives the same history, so it may be built on replay
/// (guards do). It says what the journal records and no more: a wait is listed in <see cref="Waits"/> once its start is
/// journaled (a timer's or signal wait's start rides the run's next write). Thread-safe.
/// </remarks>
public sealed partial record RunHistory
{
    /// <summary>The run as stored, when it was given to <see cref="Build"/>.</summary>
    public RunInfo? Run { get; init; }

    /// <summary>The operations the workflow code reached, by position.</summary>
    public required IReadOnlyList<RunOperation> Operations { get; init; }

    /// <summary>Decisions taken from outside the code (approvals, step resolutions, unblocks), in journal order.</summary>
    public required IReadOnlyList<RunDecision> Decisions { get; init; }

    /// <summary>What happened to the run as a whole (cancellation delivered, blocked, unblocked, ended), in journal order.</summary>
    public required IReadOnlyList<RunEvent> Events { get; init; }

    /// <summary>What the open operations wait for, by position (see the remarks).</summary>
    public required IReadOnlyList<OperationWait> Waits { get; init; }

    /// <summary>The step that waits for a person's decision, if one does (the latest asked, when several do).</summary>
    public StepAttention? Attention { get; init; }

    /// <summary>The position of the last operation the workflow code reached; 0 before the first.</summary>
    public int CurrentPosition { get; init; }

    /// <summary>True when the run has ended (completed, failed, cancelled or continued as new): open operations are
    /// <see cref="OperationState.Cancelled"/>.</summary>
    public bool Ended { get; init; }

    /// <summary>The history in numbers.</summary>
    public required RunHistorySummary Summary { get; init; }

    /// <summary>The versions of changes in the workflow code this run follows (<see cref="WorkflowContext.GetVersion"/>), by
    /// change id; Keel's own (ids starting with <c>keel.</c>) are left out.</summary>
    public IReadOnlyDictionary<string, int> Versions { get; init; } = new Dictionary<string, int>();

    /// <summary>What the run said it was doing, oldest first (<see cref="WorkflowContext.SetStatus(string, object?)"/>), with progress where
    /// it gave one; the last is the run's current custom status once journaled.</summary>
    public IReadOnlyList<RunCustomStatus> Statuses { get; init; } = [];

    /// <summary>The plan the run declared last (<see cref="WorkflowContext.Plan"/>), or null when it declared none: then
    /// what remains is unknown until its code runs.</summary>
    public IReadOnlyList<string>? Plan { get; init; }

    /// <summary>The items of <see cref="Plan"/> not done yet, in order (an item is done once an operation of that name
    /// completed; an item named twice needs two); null when the run declared no plan.</summary>
    public IReadOnlyList<string>? Remaining { get; init; }

    /// <summary>The operation at a position.</summary>
    /// <param name="position">The position.</param>
    /// <returns>The operation, or null when the code has not reached it.</returns>
    public RunOperation? FindOperation(int position)
    {
        foreach (var operation in Operations)
        {
            if (operation.Position == position)
            {
                return operation;
            }
        }
        return null;
    }

    /// <summary>Whether an approval of this name was approved.</summary>
    /// <param name="approvalName">The approval's durable name.</param>
    /// <returns>True when one was.</returns>
    public bool IsApprovalGranted(string approvalName) =>
        Decisions.Any(d => d.Kind == DecisionKind.Approval && d.Outcome == ApprovalOutcome.Approved && d.Name == approvalName);

    /// <summary>Whether a step of this name completed.</summary>
    /// <param name="stepName">The step's durable name.</param>
    /// <returns>True when one did.</returns>
    public bool IsStepCompleted(string stepName) =>
        Operations.Any(o => o.Kind == OperationKind.Step && o.State == OperationState.Completed && o.Name == stepName);
}
