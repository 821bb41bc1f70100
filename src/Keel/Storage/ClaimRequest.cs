namespace Keel.Storage;

/// <summary>What a worker asks for when claiming.</summary>
public sealed record ClaimRequest
{
    /// <summary>The worker's owner id.</summary>
    public required string Owner { get; init; }

    /// <summary>The workflows the worker can run.</summary>
    public required IReadOnlyCollection<string> WorkflowNames { get; init; }

    /// <summary>How many runs at most.</summary>
    public required int MaxRuns { get; init; }

    /// <summary>Now, from the worker's clock.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>When the new leases expire.</summary>
    public required DateTimeOffset LeaseExpiresAt { get; init; }

    /// <summary>
    /// Per-workflow limits on runs held at once across all workers: a workflow at its limit gets no more claims
    /// until a held run finishes, waits or is released. Workflows not listed are unlimited.
    /// </summary>
    public IReadOnlyDictionary<string, int>? ConcurrencyLimits { get; init; }

    /// <summary>
    /// How many suspect runs the claim may take, to be run alone (0 or 1; claimed beside the others, within
    /// <see cref="MaxRuns"/>). A run is suspect when its worker died holding it twice without progress in between, or
    /// when a person unblocked it; such runs are claimed only this way, charged-most first. The worker runs a suspect as
    /// the only one in its process, so that if the process dies then, the death is the suspect's: the claim that next
    /// takes it over counts it in <see cref="RunInfo.RecoveryAttempts"/>.
    /// </summary>
    public int MaxAlone { get; init; }

    /// <summary>The claiming worker's build (<see cref="KeelOptions.BuildId"/>): recorded as the build of every run
    /// it claims that has none yet (<see cref="RunInfo.BuildId"/>).</summary>
    public string? Build { get; init; }

    /// <summary>
    /// When set, only runs this worker can replay are claimed: runs with no build recorded yet and runs whose build is
    /// one of these (an entry ending in <c>*</c> matches builds starting with what comes before it). Null: runs of any
    /// build (<see cref="KeelOptions.ServesBuilds"/>).
    /// </summary>
    public IReadOnlyCollection<string>? ServesBuilds { get; init; }
}
