namespace Keel.Storage;

/// <summary>The outcome of <see cref="IWorkflowStore.CreateRunAsync"/>.</summary>
/// <param name="Run">The stored run.</param>
/// <param name="Created">False when a run with that id existed already.</param>
public sealed record CreateRunResult(RunInfo Run, bool Created)
{
    /// <summary>The lease of <see cref="NewRun.Owner"/> on a run created held now; null otherwise.</summary>
    public RunLease? Lease { get; init; }
}
