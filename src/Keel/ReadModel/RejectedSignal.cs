namespace Keel;

/// <summary>A signal a wait set aside because its payload did not fit the type the wait reads; the wait went on.</summary>
public sealed record RejectedSignal
{
    /// <summary>When it was set aside.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Why it did not fit.</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>The payload that was sent, as JSON text.</summary>
    public string? Payload { get; init; }

    /// <summary>The journal index of its entry.</summary>
    public long Index { get; init; }
}
