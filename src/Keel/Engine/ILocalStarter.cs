namespace Keel.Engine;

/// <summary>
/// The worker of the client's own process, as the client sees it: it may take a new run at once (eager start) and says
/// which runs it executes now. A client-only process has none.
/// </summary>
internal interface ILocalStarter
{
    /// <summary>Sets a slot aside for a new run of this workflow that the client creates held by this worker; null when
    /// the worker does not take it now (no free slot, stopping, a limited or unknown workflow).</summary>
    EagerStart? TryReserveStart(string workflowName);

    /// <summary>Whether this process executes the run now; its executor notifies <see cref="RunNotifier.NotifyRunChanged"/> when it stops.</summary>
    bool Holds(string runId);
}
