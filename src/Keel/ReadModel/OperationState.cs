using System.Text.Json.Serialization;

namespace Keel;

/// <summary>Where one operation of a run is, as its journal tells it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperationState>))]
public enum OperationState
{
    /// <summary>Reached and not settled: a step's attempt is running (or was when its process stopped), or its outcome is
    /// about to be journaled.</summary>
    Running,

    /// <summary>Waits for something outside the workflow code: a signal, a due time (a timer, a retry's backoff), an
    /// approval, a child run. <see cref="RunOperation.Wait"/> says what.</summary>
    Waiting,

    /// <summary>Ended with an outcome the workflow code receives as a value: a step's result, a fired timer, a received
    /// signal, a decided (or expired) approval, a child run's result.</summary>
    Completed,

    /// <summary>Ended with an outcome the workflow code receives as an exception: a step failed for good, a signal wait
    /// timed out, a child run ended without a result.</summary>
    Failed,

    /// <summary>A step waits for a person's decision (<see cref="RunHistory.Attention"/>): retry, complete or fail it.</summary>
    NeedsAttention,

    /// <summary>The run ended (cancelled, failed, completed or continued as new) before the operation had an outcome.</summary>
    Cancelled,
}
