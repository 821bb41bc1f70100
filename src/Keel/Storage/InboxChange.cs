namespace Keel.Storage;

/// <summary>The change an append makes to the run's own inbox.</summary>
public sealed record InboxChange
{
    /// <summary>Signals the appended entries consumed: removed from the inbox in the same transaction.</summary>
    public required IReadOnlyList<long> ConsumedSignals { get; init; }
}
