using Keel.Storage;
using Microsoft.Extensions.Logging;

namespace Keel.Engine;

/// <summary>What every executor of a worker shares.</summary>
internal sealed record WorkerServices(
    IWorkflowStore Store,
    KeelOptions Options,
    TimeProvider TimeProvider,
    RunNotifier Notifier,
    IServiceProvider Services,
    ILogger Logger,
    ILogger WorkflowLogger)
{
    /// <summary>Told when a run held alone as a suspect stops being one (it made progress, waits, or ended).</summary>
    public Action<RunExecutor>? AloneEnded { get; init; }

    /// <summary>Holds back other runs' new step bodies while a suspect runs alone.</summary>
    public AloneGate? AloneGate { get; init; }

    /// <summary>Who the worker is, as its writes to a run's journal say (<see cref="FencedWriter"/>).</summary>
    public WorkerStamp? Stamp { get; init; }
}
