using System.Text.Json.Serialization;

namespace Keel;

/// <summary>How one attempt of a step ended, as its journal tells it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttemptOutcome>))]
public enum AttemptOutcome
{
    /// <summary>Started (an AtMostOnce attempt journals its start) with no outcome yet: it runs, or its process stopped
    /// while it ran and nobody has looked at it yet.</summary>
    Running,

    /// <summary>Completed with a result (also when a person or the outcome check completed it).</summary>
    Completed,

    /// <summary>Failed; another attempt followed or is due at <see cref="StepAttempt.RetryAt"/>.</summary>
    Failed,

    /// <summary>Failed for good: the step failed with it (also when a person failed it).</summary>
    FailedForGood,

    /// <summary>Its process stopped while it ran an AtMostOnce body: whether its effect happened is unknown, and the step
    /// waits for a decision (<see cref="RunHistory.Attention"/>).</summary>
    Unknown,
}
