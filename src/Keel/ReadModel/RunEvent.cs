namespace Keel;

/// <summary>Something that happened to a run as a whole, from its journal.</summary>
public sealed record RunEvent
{
    /// <summary>What happened.</summary>
    public required RunEventKind Kind { get; init; }

    /// <summary>When.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>The error, for a run that failed or was blocked.</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>Who, for an unblock, if they said.</summary>
    public string? By { get; init; }

    /// <summary>Why, for an unblock, if they said.</summary>
    public string? Reason { get; init; }

    /// <summary>The run this one continued as, for <see cref="RunEventKind.ContinuedAsNew"/>.</summary>
    public string? RunId { get; init; }

    /// <summary>The worker, for <see cref="RunEventKind.Claimed"/>, <see cref="RunEventKind.TakenOver"/> and
    /// <see cref="RunEventKind.Released"/>.</summary>
    public WorkerRef? Worker { get; init; }

    /// <summary>The worker that held the run before and never let go of it, for <see cref="RunEventKind.TakenOver"/>.</summary>
    public string? PreviousWorker { get; init; }

    /// <summary>The status a worker left the run in, for <see cref="RunEventKind.Released"/> (null: handed back as is).</summary>
    public RunStatus? Status { get; init; }

    /// <summary>When the run was due again, for <see cref="RunEventKind.Released"/>, if at a time.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>The journal index of its entry.</summary>
    public long Index { get; init; }
}
