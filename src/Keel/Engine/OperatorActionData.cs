namespace Keel.Engine;

/// <summary>Who did something to a run from outside it, and why, as journaled (e.g. <see cref="JournalEntryKind.RunUnblocked"/>).</summary>
/// <param name="By">Who (a person or system), if given.</param>
/// <param name="Reason">Why, if given.</param>
/// <param name="RetriedChild">For a retry (<see cref="JournalEntryKind.RunRetried"/>) of a run that a failed child run
/// ended: that child, retried with it, which the run waits for again.</param>
/// <param name="Priority">For a priority change (<see cref="JournalEntryKind.OperatorAction"/> <c>priority</c>): the new priority.</param>
/// <param name="Signal">For a signal sent by someone (<see cref="JournalEntryKind.OperatorAction"/> <c>signal</c>): its name.</param>
internal sealed record OperatorActionData(string? By, string? Reason, string? RetriedChild = null, int? Priority = null, string? Signal = null)
{
    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}
