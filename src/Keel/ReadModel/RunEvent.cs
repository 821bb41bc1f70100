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

    /// <summary>The journal index of its entry.</summary>
    public long Index { get; init; }
}
