using Keel.Storage;

namespace Keel.Cli.Connection;

/// <summary>The commands on a Keel database (SQLite file or PostgreSQL), through the library's client.</summary>
internal sealed class LocalKeelService(IWorkflowStore store, string arguments) : IKeelService
{
    public KeelClient Client { get; } = KeelClient.Create(store);

    public string Arguments => arguments;

    public Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken) => Client.GetRunAsync(runId, cancellationToken);

    public Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken) =>
        Client.GetJournalAsync(runId, cancellationToken);

    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) => Client.ListRunsAsync(query, cancellationToken);

    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(TimeSpan seenWithin, CancellationToken cancellationToken) =>
        Client.ListWorkersAsync(seenWithin, cancellationToken);

    public Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken) =>
        Client.ListPendingApprovalsAsync(runId, limit, cancellationToken);

    public Task<StartResult> StartAsync(string workflow, string inputJson, StartWorkflowOptions options, CancellationToken cancellationToken) =>
        Client.StartWithJsonAsync(workflow, inputJson, options, cancellationToken);

    public Task CancelAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        Client.As(actor.By).CancelAsync(runId, actor.Reason, cancellationToken);

    public Task<bool> PauseAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        Client.As(actor.By, actor.Reason).PauseAsync(runId, cancellationToken);

    public Task ResumeAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        Client.As(actor.By, actor.Reason).ResumeAsync(runId, cancellationToken);

    public Task<RunInfo> SetPriorityAsync(string runId, int priority, Actor actor, CancellationToken cancellationToken) =>
        Client.As(actor.By, actor.Reason).SetPriorityAsync(runId, priority, cancellationToken);

    public Task UnblockAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        Client.UnblockAsync(runId, actor.By, actor.Reason, cancellationToken);

    public Task RetryAsync(string runId, Actor actor, CancellationToken cancellationToken) =>
        Client.RetryAsync(runId, actor.By, actor.Reason, cancellationToken);

    public Task<StartResult> ForkAsync(string runId, ForkOptions options, CancellationToken cancellationToken) =>
        Client.ForkAsync(runId, options, cancellationToken);

    public Task SignalAsync(string runId, string name, string? payloadJson, Actor actor, CancellationToken cancellationToken) =>
        Client.As(actor.By, actor.Reason).SignalWithJsonAsync(runId, name, payloadJson, cancellationToken);

    public Task<string> ResolveAsync(string runId, StepResolution resolution, CancellationToken cancellationToken) =>
        Client.ResolveAsync(runId, resolution, cancellationToken);

    public Task<PendingApproval> DecideApprovalAsync(string runId, ApprovalResponse response, CancellationToken cancellationToken) =>
        Client.DecideApprovalAsync(runId, response, cancellationToken);

    public ValueTask DisposeAsync() => store.DisposeAsync();
}
