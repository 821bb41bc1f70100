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
}
