using System.Text.Json.Serialization;

namespace Keel;

/// <summary>What an open operation waits for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WaitKind>))]
public enum WaitKind
{
    /// <summary>A signal of a name (<see cref="OperationWait.SignalName"/>).</summary>
    Signal,

    /// <summary>A durable timer's due time.</summary>
    Timer,

    /// <summary>A person's decision on an approval.</summary>
    Approval,

    /// <summary>A child run's outcome (<see cref="OperationWait.ChildRunId"/>).</summary>
    ChildRun,

    /// <summary>A step's next attempt, due at <see cref="OperationWait.DueAt"/> (a retry's backoff).</summary>
    Retry,

    /// <summary>A person's decision on a step that needs attention (<see cref="RunHistory.Attention"/>).</summary>
    Person,
}
