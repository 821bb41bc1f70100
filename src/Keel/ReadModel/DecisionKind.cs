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
}
