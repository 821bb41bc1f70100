namespace Keel;

/// <summary>A child run its parent waits for, that cannot go on by itself (see <see cref="RunInfo.StuckChild"/>).</summary>
/// <param name="RunId">The child run.</param>
/// <param name="Status">Its state: Blocked or NeedsAttention.</param>
/// <param name="Reason">Why, as the child's status reason says.</param>
public sealed record StuckChildRun(string RunId, RunStatus Status, string? Reason)
{
    /// <summary>Words for a person: what the parent waits for and why it is stuck.</summary>
    /// <returns>The sentence.</returns>
    public override string ToString() =>
        $"waiting for child run '{RunId}', which is {Status}{(Reason is null ? "" : $": {Reason}")}";
}
