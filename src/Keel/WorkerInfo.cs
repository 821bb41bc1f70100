namespace Keel;

/// <summary>
/// A worker as it registered itself in the store: who it is, where it runs, what it serves and when it was last seen.
/// Clients without workflows of their own (the HTTP API, the CLI) refuse to start a workflow no live or recently seen
/// worker serves; operators list workers to see what runs where.
/// </summary>
public sealed record WorkerInfo
{
    /// <summary>The worker's owner id (the lease holder's name on the runs it holds).</summary>
    public required string WorkerId { get; init; }

    /// <summary>The machine it runs on.</summary>
    public required string Host { get; init; }

    /// <summary>Its process id on that machine.</summary>
    public required int ProcessId { get; init; }

    /// <summary>The build of the code it runs (<see cref="KeelOptions.BuildId"/>).</summary>
    public string? Build { get; init; }

    /// <summary>The workflows it serves.</summary>
    public required IReadOnlyList<string> Workflows { get; init; }

    /// <summary>When it started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it last said it was alive (it does every few seconds while it runs).</summary>
    public required DateTimeOffset LastSeenAt { get; init; }

    /// <summary>When it stopped cleanly; null while it runs, or when it died without saying so.</summary>
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>How often a running worker says it is alive.</summary>
    internal static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    /// <summary>How long a worker may stay silent and still count as alive: three missed heartbeats.</summary>
    public static TimeSpan SilenceLimit { get; } = 3 * Heartbeat;

    /// <summary>Whether it counts as alive at <paramref name="now"/>: not stopped, and heard from within <see cref="SilenceLimit"/>.</summary>
    /// <param name="now">The time to judge at.</param>
    /// <returns>True while it runs as far as the store can tell.</returns>
    public bool IsAliveAt(DateTimeOffset now) => StoppedAt is null && now - LastSeenAt <= SilenceLimit;

    /// <summary>How many runs it holds now: the runs it works on or keeps for a short wait; for a worker that died, those
    /// no other worker has taken over yet.</summary>
    public int RunsHeld { get; init; }
}
