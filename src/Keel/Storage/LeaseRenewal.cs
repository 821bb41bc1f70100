namespace Keel.Storage;

/// <summary>What a lease renewal found.</summary>
/// <param name="Lost">Runs whose lease is no longer the worker's.</param>
/// <param name="CancelRequested">Runs the worker holds that were asked to cancel.</param>
/// <param name="PauseRequested">Runs the worker holds that were asked to pause.</param>
/// <param name="Signalled">Runs the worker holds that have signals in their inbox.</param>
public sealed record LeaseRenewal(IReadOnlyList<string> Lost, IReadOnlyList<string> CancelRequested, IReadOnlyList<string> PauseRequested,
    IReadOnlyList<string> Signalled);
