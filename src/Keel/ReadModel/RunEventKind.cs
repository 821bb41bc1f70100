using System.Text.Json.Serialization;

namespace Keel;

/// <summary>What happened to a run as a whole.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunEventKind>))]
public enum RunEventKind
{
    /// <summary>The run's cancellation was delivered to its workflow code.</summary>
    CancelDelivered,

    /// <summary>The run was blocked (nondeterminism, or quarantined after its recoveries kept failing).</summary>
    Blocked,

    /// <summary>A person unblocked the run; it continued where it stopped.</summary>
    Unblocked,

    /// <summary>The run completed.</summary>
    Completed,

    /// <summary>The run failed.</summary>
    Failed,

    /// <summary>The run was cancelled.</summary>
    Cancelled,

    /// <summary>The run ended by continuing as a new run (<see cref="RunEvent.RunId"/>).</summary>
    ContinuedAsNew,

    /// <summary>A person retried the Failed run: it continues from the step whose failure ended it.</summary>
    Retried,

    /// <summary>This run is a fork of <see cref="RunEvent.RunId"/> (where and why in <see cref="RunEvent.Reason"/>).</summary>
    ForkedFrom,

    /// <summary>This run was forked: <see cref="RunEvent.RunId"/> is the fork.</summary>
    ForkedTo,

    /// <summary>A worker (<see cref="RunEvent.Worker"/>) took the run and ran it.</summary>
    Claimed,

    /// <summary>A worker (<see cref="RunEvent.Worker"/>) took the run over from one that held it and never let go
    /// (<see cref="RunEvent.PreviousWorker"/>: it crashed, was killed, or stalled past its lease).</summary>
    TakenOver,

    /// <summary>The worker holding the run let go of it without ending it: to wait (<see cref="RunEvent.Status"/>,
    /// <see cref="RunEvent.DueAt"/>, <see cref="RunEvent.Reason"/>), paused, or handed back as it stopped (no status).</summary>
    Released,
}
