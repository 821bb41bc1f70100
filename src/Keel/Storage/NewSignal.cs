namespace Keel.Storage;

/// <summary>A signal to store in a run's inbox.</summary>
public sealed record NewSignal
{
    /// <summary>The run.</summary>
    public required string RunId { get; init; }

    /// <summary>The signal's name.</summary>
    public required string Name { get; init; }

    /// <summary>The payload as JSON, or null.</summary>
    public string? Payload { get; init; }

    /// <summary>When it was sent.</summary>
    public required DateTimeOffset SentAt { get; init; }
}
