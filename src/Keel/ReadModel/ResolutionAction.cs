using System.Text.Json.Serialization;

namespace Keel;

/// <summary>What a step that needed attention was resolved to (<see cref="StepResolution"/>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ResolutionAction>))]
public enum ResolutionAction
{
    /// <summary>Run its body (again).</summary>
    Retry,

    /// <summary>Complete it with a given result, without running its body.</summary>
    Complete,

    /// <summary>Fail it for good.</summary>
    Fail,
}
