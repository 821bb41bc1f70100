namespace Keel.Testing;

/// <summary>One interference with a worker process (or its own exit), in the order they happened.</summary>
/// <param name="Kind">Kill, stop or exit.</param>
/// <param name="Worker">The worker index.</param>
/// <param name="ProcessId">The process that was killed, stopped or exited.</param>
/// <param name="At">When (for a stop: the SIGSTOP).</param>
/// <param name="Until">For a stop: when the SIGCONT was sent (read just before sending it); else null.</param>
/// <param name="ExitCode">For an exit: the process's exit code; else null.</param>
public sealed record ChaosEvent(ChaosEventKind Kind, int Worker, int ProcessId, DateTimeOffset At, DateTimeOffset? Until = null, int? ExitCode = null);
