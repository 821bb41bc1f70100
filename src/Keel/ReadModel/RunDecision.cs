using System.Text.Json;

namespace Keel;

/// <summary>A decision taken on a run from outside its code: an approval, a step resolution, an unblock; who, when, why.</summary>
public sealed record RunDecision
{
    /// <summary>What was decided on.</summary>
    public required DecisionKind Kind { get; init; }

    /// <summary>The position of the operation decided on (the approval, the step); 0 for an unblock.</summary>
    public required int Position { get; init; }

    /// <summary>The approval's or step's durable name; the workflow's for an unblock.</summary>
    public required string Name { get; init; }

    /// <summary>When it was decided (for an approval, when the decision was sent).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Who decided, if they said. An outcome check that settled a step is <c>"outcome check"</c>.</summary>
    public string? By { get; init; }

    /// <summary>Why: the approver's comment, the resolution's or the unblock's reason.</summary>
    public string? Reason { get; init; }

    /// <summary>The approval's outcome, for <see cref="DecisionKind.Approval"/>.</summary>
    public ApprovalOutcome? Outcome { get; init; }

    /// <summary>The option chosen, for an approval that offered options.</summary>
    public string? Option { get; init; }

    /// <summary>The arguments the approval proposed, for <see cref="DecisionKind.Approval"/>.</summary>
    public JsonElement? ProposedArguments { get; init; }

    /// <summary>The arguments the approver changed them to, when they did.</summary>
    public JsonElement? EditedArguments { get; init; }

    /// <summary>What the step was resolved to, for <see cref="DecisionKind.StepResolution"/>.</summary>
    public ResolutionAction? Action { get; init; }

    /// <summary>The result a step was completed with, for <see cref="ResolutionAction.Complete"/>.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>For an operator action <c>signal</c>: the name of the signal that person sent.</summary>
    public string? SignalName { get; init; }

    /// <summary>The journal index of the entry that records the decision.</summary>
    public long Index { get; init; }
}
