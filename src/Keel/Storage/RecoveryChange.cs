namespace Keel.Storage;

/// <summary>
/// What an append says about the blame the run carries for its workers' deaths (see
/// <see cref="IWorkflowStore.ClaimRunsAsync"/>). Progress (an appended entry) and a release of the lease clear the blame
/// without one.
/// </summary>
/// <remarks>Checked by <see cref="RunUpdate.Validate"/>: <see cref="Recovered"/> and <see cref="Failed"/> not together;
/// <see cref="Failed"/> only with the lease released (<see cref="RunTransition.ReleaseLease"/>).</remarks>
public sealed record RecoveryChange
{
    /// <summary>
    /// The run, held alone as a suspect, reached a point where nothing it runs can bring its worker down (everything it
    /// does waits): it is no longer suspect, and its recovery count is reset, as progress (an appended entry) and a
    /// release of the lease also do.
    /// </summary>
    public bool Recovered { get; init; }

    /// <summary>
    /// The run's resumption failed without bringing its worker down (its code threw while its journal was replayed):
    /// count one recovery attempt against it (only with <see cref="RunTransition.ReleaseLease"/>, the error in
    /// <see cref="RunTransition.Error"/>; the run stays suspect if it was).
    /// </summary>
    public bool Failed { get; init; }

    /// <summary>
    /// For a run held alone: what it is about to do (an opaque text of the engine's), kept until its next progress so
    /// that the claim after a death can say where it died (<see cref="ClaimedRun.RecoveryPoint"/>). The first one a holder
    /// writes arms the charge: from then on a death of that holder is the run's (see <see cref="IWorkflowStore.ClaimRunsAsync"/>).
    /// </summary>
    public string? Point { get; init; }
}
