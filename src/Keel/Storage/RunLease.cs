namespace Keel.Storage;

/// <summary>A worker's hold on a run. Appends are accepted only while <see cref="Epoch"/> is the run's.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Owner">The worker.</param>
/// <param name="Epoch">The fencing token: bumped by every claim.</param>
public sealed record RunLease(string RunId, string Owner, long Epoch);
