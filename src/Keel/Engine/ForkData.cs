namespace Keel.Engine;

/// <summary>A fork as both runs journal it (<see cref="JournalEntryKind.RunForked"/>): which run it came from, which run it
/// made, at which position, whether a person replaced the outcome there, who and why.</summary>
internal sealed record ForkData(string Source, string Fork, int Position, bool Replaced, string? By, string? Reason)
{
    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}
