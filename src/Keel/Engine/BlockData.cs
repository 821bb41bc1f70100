namespace Keel.Engine;

/// <summary>What a <see cref="JournalEntryKind.RunBlocked"/> entry records besides its error: why the run was blocked
/// (<c>nondeterminism</c> or <c>quarantine</c>) and the build of the worker that blocked it, so that a worker of another
/// build can retry it once (a redeploy, or the old code brought back).</summary>
internal sealed record BlockData(string Cause, string? Build)
{
    public const string Nondeterminism = "nondeterminism";

    public const string Quarantine = "quarantine";

    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}
