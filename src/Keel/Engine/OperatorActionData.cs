namespace Keel.Engine;

/// <summary>Who did something to a run from outside it, and why, as journaled (e.g. <see cref="JournalEntryKind.RunUnblocked"/>).</summary>
/// <param name="By">Who (a person or system), if given.</param>
/// <param name="Reason">Why, if given.</param>
internal sealed record OperatorActionData(string? By, string? Reason)
{
    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}
