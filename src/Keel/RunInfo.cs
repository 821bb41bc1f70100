using System.Text.Json;

namespace Keel;

/// <summary>A run as stored.</summary>
public sealed record RunInfo
{
    /// <summary>The run's id.</summary>
    public required string RunId { get; init; }

    /// <summary>The workflow's durable name.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>Where the run is.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>The input, as JSON.</summary>
    public string? Input { get; init; }

    /// <summary>The result, as JSON, once Completed.</summary>
    public string? Result { get; init; }

    /// <summary>The error, once Failed (or the last recovery error, when Blocked).</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>Why the run is Blocked or Cancelled, in words.</summary>
    public string? StatusReason { get; init; }

    /// <summary>What the run says it is doing now (<see cref="WorkflowContext.SetStatus(string, object?)"/>), if it said anything.</summary>
    public RunCustomStatus? CustomStatus { get; init; }

    /// <summary>Higher runs first.</summary>
    public int Priority { get; init; }

    /// <summary>When the run was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the run last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When the run finished, if it has.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The worker that holds the run's lease, if any.</summary>
    public string? Owner { get; init; }

    /// <summary>Claims since the run last made progress (recoveries that did not get it further).</summary>
    public int RecoveryAttempts { get; init; }

    /// <summary>True when a pause was requested and the owning worker has not yet acted on it.</summary>
    public bool PauseRequested { get; init; }

    /// <summary>
    /// For a Waiting run whose child run cannot go on by itself (the child is Blocked, or NeedsAttention waiting for a
    /// person): that child, its state and why. The parent waits for it; settle the child (unblock, resolve, cancel) and
    /// both go on. Null otherwise, and in lists that do not compute it.
    /// </summary>
    public StuckChildRun? StuckChild { get; init; }

    /// <summary>
    /// The build of the code the run started on (<see cref="KeelOptions.BuildId"/> of the worker that first claimed it,
    /// or of its source for a fork): the code its journal was written by. Null before its first claim, for a worker
    /// without a build id, and for runs started before Keel recorded builds.
    /// </summary>
    public string? BuildId { get; init; }

    /// <summary>The W3C <c>traceparent</c> the run's start belonged to: each time a worker takes the run up, its
    /// <c>workflow</c> span continues that trace. Null when its start had none.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The run this one continued as (<see cref="WorkflowContext.ContinueAsNew{TInput}"/>), once it did.</summary>
    public string? ContinuedAsRunId { get; init; }

    /// <summary>The run that started this one as a child, if any.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The position of the parent's operation that waits for this run, when it is a child.</summary>
    public int? ParentSequence { get; init; }

    /// <summary>True when cancellation was requested and the owning worker has not yet acted on it.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>
    /// The tokens the run's model calls used so far (input, output, total, calls), kept by the store in the transaction
    /// that journals each call, so exact after a crash; null when the run journaled no model call since totals were kept
    /// (runs recorded before that show none here: read their journal, as <c>keel show</c> does).
    /// </summary>
    public TokenTotals? Tokens { get; init; }

    /// <summary>Deserializes <see cref="Result"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="options">Serializer options; null for the web defaults.</param>
    /// <returns>The result, or default when there is none.</returns>
    public T? GetResult<T>(JsonSerializerOptions? options = null) =>
        Result is null ? default : KeelJson.Deserialize<T>(Result, options ?? KeelJson.Default);
}
