using System.Text.Json.Serialization;

namespace Keel;

/// <summary>What kind of decision a person (or an outcome check) took on a run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DecisionKind>))]
public enum DecisionKind
{
    /// <summary>An approval was approved, rejected, or expired undecided.</summary>
    Approval,

    /// <summary>A step that needed attention was retried, completed or failed.</summary>
    StepResolution,

    /// <summary>A Blocked run was unblocked.</summary>
    Unblock,

    /// <summary>A Failed run was retried.</summary>
    Retry,

    /// <summary>A person acted on the run from outside it: <see cref="RunDecision.Name"/> is the action (<c>pause</c>,
    /// <c>resume</c>, <c>priority</c> with the new priority in <see cref="RunDecision.Result"/>, <c>cancel</c>).</summary>
    OperatorAction,

    /// <summary>A model chose to call a tool (Keel.AI): <see cref="RunDecision.Name"/> is the tool, <see cref="RunDecision.By"/>
    /// the model (when known), <see cref="RunDecision.ProposedArguments"/> the arguments it chose (when small enough to
    /// journal inline). Its outcome is the tool's step, or the approval that gates it.</summary>
    ToolChoice,
}
