namespace Keel.Storage;

/// <summary>A signal in a run's inbox, not yet consumed by the run.</summary>
/// <param name="Id">Its place in arrival order (store-wide, increasing).</param>
/// <param name="Name">The signal's name.</param>
/// <param name="Payload">The payload as JSON, or null.</param>
/// <param name="SentAt">When it was sent.</param>
public sealed record StoredSignal(long Id, string Name, string? Payload, DateTimeOffset SentAt);
