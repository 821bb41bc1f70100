using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel;

/// <summary>
/// A run handed to a person: what it is for, where it is and why, what ran, what was decided, what failed and why, what
/// remains, and what the person can do next. Built from the run's history alone (<see cref="From"/>,
/// <see cref="KeelClient.GetHandoffAsync"/>), so it is right after any crash; the CLI (<c>keel handoff</c>), the HTTP API
/// and the dashboard render this record, never the journal.
/// </summary>
public sealed partial record RunHandoff
{
    /// <summary>What the run is for.</summary>
    public required HandoffGoal Goal { get; init; }

    /// <summary>Where the run is and why.</summary>
    public required HandoffState State { get; init; }

    /// <summary>The operations the run reached, by position: what ran and what it gave.</summary>
    public required IReadOnlyList<HandoffStep> Ran { get; init; }

    /// <summary>What people (and outcome checks) decided on the run, in journal order.</summary>
    public required IReadOnlyList<HandoffDecision> Decided { get; init; }

    /// <summary>What failed and why, in journal order: failed attempts (retried or not), failed operations, the run's own
    /// failure or block, and workers that stopped while they held the run.</summary>
    public required IReadOnlyList<HandoffFailure> Failed { get; init; }

    /// <summary>What remains to be done.</summary>
    public required HandoffRemains Remains { get; init; }

    /// <summary>What a person can do next, most pressing first.</summary>
    public required IReadOnlyList<HandoffAction> Next { get; init; }
}

/// <summary>What a run is for.</summary>
public sealed record HandoffGoal
{
    /// <summary>The run's id.</summary>
    public required string RunId { get; init; }

    /// <summary>The workflow it runs.</summary>
    public required string Workflow { get; init; }

    /// <summary>Its input as a JSON value (a string when the stored input is not JSON).</summary>
    public JsonElement? Input { get; init; }

    /// <summary>Its input in one short line.</summary>
    public required string InputSummary { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The run this one is a child of, if any.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The build of the code it started on, if known.</summary>
    public string? BuildId { get; init; }
}

/// <summary>Where a run is and why.</summary>
public sealed record HandoffState
{
    /// <summary>The run's status.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>The state in one sentence a person acts on: "waiting for signal 'invoice-paid' since …".</summary>
    public required string Summary { get; init; }

    /// <summary>Since when the run is in this state, when known.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>What the run waits for, when it waits.</summary>
    public IReadOnlyList<OperationWait> Waits { get; init; } = [];

    /// <summary>The step that waits for a person's decision, if one does.</summary>
    public StepAttention? Attention { get; init; }

    /// <summary>Why the run failed or is blocked.</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>What the run last said it was doing (<see cref="WorkflowContext.SetStatus(string, object?)"/>).</summary>
    public RunCustomStatus? Doing { get; init; }

    /// <summary>The worker the journal says holds the run (claimed it and has not let go), if any.</summary>
    public WorkerRef? Worker { get; init; }

    /// <summary>The run's result, when it completed.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>The run this one continued as, if it did.</summary>
    public string? ContinuedAs { get; init; }
}

/// <summary>An operation a run reached, in a line.</summary>
public sealed record HandoffStep
{
    /// <summary>Its position.</summary>
    public required int Position { get; init; }

    /// <summary>What kind of operation it is.</summary>
    public required OperationKind Kind { get; init; }

    /// <summary>Its durable name.</summary>
    public required string Name { get; init; }

    /// <summary>Where it is.</summary>
    public required OperationState State { get; init; }

    /// <summary>How many attempts a step made (0 for other operations).</summary>
    public int Attempts { get; init; }

    /// <summary>When it started, if known.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended, once it did.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>What it gave or why it stopped, in one short line.</summary>
    public required string Summary { get; init; }

    /// <summary>The worker that held the run when the operation's last entry was written, if the journal says.</summary>
    public string? Worker { get; init; }
}

/// <summary>A decision taken on a run, in a line.</summary>
public sealed record HandoffDecision
{
    /// <summary>What was decided on.</summary>
    public required DecisionKind Kind { get; init; }

    /// <summary>The position of the operation decided on; 0 for the run as a whole.</summary>
    public int Position { get; init; }

    /// <summary>The approval's or step's name, the operator action's (<c>pause</c>, <c>cancel</c>…), or the workflow's.</summary>
    public required string Name { get; init; }

    /// <summary>When.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Who, if they said.</summary>
    public string? By { get; init; }

    /// <summary>Why, if they said.</summary>
    public string? Reason { get; init; }

    /// <summary>The decision in one line: "approved", "rejected", "completed with …", "paused".</summary>
    public required string Summary { get; init; }

    /// <summary>For an approval whose arguments the approver edited: each value changed, by its JSON path.</summary>
    public IReadOnlyList<ArgumentChange> Changes { get; init; } = [];
}

/// <summary>A value an approver changed in the arguments they approved.</summary>
/// <param name="Path">Where, as a JSON path (<c>$.amount</c>, <c>$.lines[1].qty</c>).</param>
/// <param name="From">The proposed value; null when the approver added it.</param>
/// <param name="To">The approved value; null when the approver removed it.</param>
public sealed record ArgumentChange(string Path, JsonElement? From, JsonElement? To);

/// <summary>What failed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FailureKind>))]
public enum FailureKind
{
    /// <summary>An attempt of a step (retried, or the last of its step).</summary>
    Attempt,

    /// <summary>An operation other than a step: a signal wait timed out, a child run failed.</summary>
    Operation,

    /// <summary>The run itself: it failed, or was blocked.</summary>
    Run,

    /// <summary>A worker stopped while it held the run (crashed, killed or stalled); another took the run over.</summary>
    Worker,
}

/// <summary>Something that failed in a run, and why.</summary>
public sealed record HandoffFailure
{
    /// <summary>What failed.</summary>
    public required FailureKind Kind { get; init; }

    /// <summary>The operation's position; 0 for the run or a worker.</summary>
    public int Position { get; init; }

    /// <summary>The step's or operation's name, the workflow's for the run, the worker's id for a worker.</summary>
    public required string Name { get; init; }

    /// <summary>The attempt's number, for <see cref="FailureKind.Attempt"/>.</summary>
    public int? Attempt { get; init; }

    /// <summary>When it failed (for a worker: when another took the run over).</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>Why.</summary>
    public required ErrorInfo Error { get; init; }

    /// <summary>Whether the run went on past it: the attempt was retried, the worker's work was taken over, the failed run
    /// retried or the block lifted.</summary>
    public bool Recovered { get; init; }
}

/// <summary>What remains of a run.</summary>
public sealed record HandoffRemains
{
    /// <summary>Whether what remains is known: the run declared a plan (<see cref="WorkflowContext.Plan"/>) or has ended.</summary>
    public required bool Known { get; init; }

    /// <summary>The plan's items not done yet, in order (empty when unknown or nothing remains).</summary>
    public IReadOnlyList<string> Items { get; init; } = [];

    /// <summary>The operations begun and not ended (waiting or running), by name.</summary>
    public IReadOnlyList<string> Open { get; init; } = [];

    /// <summary>What remains in a sentence.</summary>
    public required string Summary { get; init; }
}

/// <summary>What a person can do for a run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HandoffActionKind>))]
public enum HandoffActionKind
{
    /// <summary>Approve the approval <see cref="HandoffAction.Name"/>.</summary>
    Approve,

    /// <summary>Reject the approval <see cref="HandoffAction.Name"/>.</summary>
    Reject,

    /// <summary>Decide the step that waits for a person (<see cref="HandoffAction.Resolution"/>).</summary>
    Resolve,

    /// <summary>Send the signal <see cref="HandoffAction.Name"/>.</summary>
    Signal,

    /// <summary>Let a Blocked run continue once its cause is fixed.</summary>
    Unblock,

    /// <summary>Retry a Failed run from the step whose failure ended it.</summary>
    Retry,

    /// <summary>Resume a Paused run.</summary>
    Resume,

    /// <summary>Pause the run before its next operation.</summary>
    Pause,

    /// <summary>Cancel the run.</summary>
    Cancel,

    /// <summary>Look at another run: the child it waits for, the run it continued as (<see cref="HandoffAction.RunId"/>).</summary>
    Inspect,
}

/// <summary>One thing a person can do next for a run; the CLI renders it as a <c>keel</c> command, the API as a request.</summary>
public sealed record HandoffAction
{
    /// <summary>What it does.</summary>
    public required HandoffActionKind Kind { get; init; }

    /// <summary>What it will change, in a sentence.</summary>
    public required string Description { get; init; }

    /// <summary>The approval's or signal's name, for <see cref="HandoffActionKind.Approve"/>, <see cref="HandoffActionKind.Reject"/>
    /// and <see cref="HandoffActionKind.Signal"/>.</summary>
    public string? Name { get; init; }

    /// <summary>The decision, for <see cref="HandoffActionKind.Resolve"/>.</summary>
    public ResolutionAction? Resolution { get; init; }

    /// <summary>The other run, for <see cref="HandoffActionKind.Inspect"/>.</summary>
    public string? RunId { get; init; }

    /// <summary>What the person must supply, when the action needs a value: <c>"result"</c> (a step's result as JSON),
    /// <c>"payload"</c> (a signal's payload as JSON), <c>"reason"</c>; null when it needs none.</summary>
    public string? Needs { get; init; }
}
