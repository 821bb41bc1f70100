namespace Keel.Storage;

/// <summary>A run a worker now holds.</summary>
public sealed record ClaimedRun
{
    /// <summary>The lease.</summary>
    public required RunLease Lease { get; init; }

    /// <summary>The run as it was when claimed.</summary>
    public required RunInfo Run { get; init; }

    /// <summary>How many entries the run's journal has (0: a fresh run, whose journal need not be read); null when
    /// the store does not say.</summary>
    public long? JournalLength { get; init; }

    /// <summary>A suspect run claimed to be run alone (<see cref="ClaimRequest.MaxAlone"/>).</summary>
    public bool Alone { get; init; }

    /// <summary>
    /// What the run was about to do when it was last held alone (<see cref="RecoveryChange.Point"/>, as stored):
    /// with <see cref="RunInfo.RecoveryAttempts"/> above zero, where its worker died. Null when nothing was recorded.
    /// </summary>
    public string? RecoveryPoint { get; init; }
}
