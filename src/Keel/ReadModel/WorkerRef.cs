namespace Keel;

/// <summary>A worker as a run's journal names it: its id, and where and what it ran when it wrote.</summary>
/// <param name="Id">The worker's id (<see cref="RunInfo.Owner"/> while it holds a run).</param>
/// <param name="Host">The machine it ran on, if known.</param>
/// <param name="Pid">Its process id, if known.</param>
/// <param name="Build">The build of its code, if known.</param>
public sealed record WorkerRef(string Id, string? Host = null, int? Pid = null, string? Build = null);
