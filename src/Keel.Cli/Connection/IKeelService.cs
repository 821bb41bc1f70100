namespace Keel.Cli.Connection;

/// <summary>
/// What the CLI's commands do to runs, on a database (<see cref="LocalKeelService"/>: the library's client over the store)
/// or through a <c>keel serve</c> (<see cref="RemoteKeelService"/>: its HTTP API, so an on-call person needs an API key,
/// not database credentials). Both give the library's own records, so every command prints the same either way.
/// </summary>
internal interface IKeelService : IAsyncDisposable
{
    /// <summary>Where the commands act, as the options that say it again in a printed command (without secrets).</summary>
    string Arguments { get; }

    Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken);

    Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken);

    Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(TimeSpan seenWithin, CancellationToken cancellationToken);

    Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken);

    Task<StartResult> StartAsync(string workflow, string inputJson, StartWorkflowOptions options, CancellationToken cancellationToken);

    Task CancelAsync(string runId, Actor actor, CancellationToken cancellationToken);

    /// <summary>True when the run is paused now; false when its worker pauses it before its next operation.</summary>
    Task<bool> PauseAsync(string runId, Actor actor, CancellationToken cancellationToken);

    Task ResumeAsync(string runId, Actor actor, CancellationToken cancellationToken);

    Task<RunInfo> SetPriorityAsync(string runId, int priority, Actor actor, CancellationToken cancellationToken);

    Task UnblockAsync(string runId, Actor actor, CancellationToken cancellationToken);

    Task RetryAsync(string runId, Actor actor, CancellationToken cancellationToken);

    Task<StartResult> ForkAsync(string runId, ForkOptions options, CancellationToken cancellationToken);

    /// <summary>Sends a signal; who sent it and why are journaled.</summary>
    Task SignalAsync(string runId, string name, string? payloadJson, Actor actor, CancellationToken cancellationToken);

    /// <summary>Decides the step a NeedsAttention run waits on; its name.</summary>
    Task<string> ResolveAsync(string runId, StepResolution resolution, CancellationToken cancellationToken);

    Task<PendingApproval> DecideApprovalAsync(string runId, ApprovalResponse response, CancellationToken cancellationToken);
}

/// <summary>Who acts and why, for the run's record.</summary>
internal sealed record Actor(string? By, string? Reason)
{
    /// <summary>Who acts in a command: <c>--by</c>, or the user running it; and why: <c>--reason</c>.</summary>
    public static Actor Of(System.CommandLine.ParseResult parse, System.CommandLine.Option<string?> by, System.CommandLine.Option<string?> reason) =>
        new(parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason));
}

internal static class KeelServiceExtensions
{
    /// <summary>The run, or <see cref="RunNotFoundException"/>.</summary>
    public static async Task<RunInfo> GetExistingRunAsync(this IKeelService keel, string runId, CancellationToken cancellationToken) =>
        await keel.GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);

    /// <summary>The run read from its journal (the library's one reading of it), or <see cref="RunNotFoundException"/>.</summary>
    public static async Task<RunHistory> GetHistoryAsync(this IKeelService keel, string runId, CancellationToken cancellationToken)
    {
        var run = await keel.GetExistingRunAsync(runId, cancellationToken);
        return RunHistory.Build(run, await keel.GetJournalAsync(runId, cancellationToken));
    }
}
