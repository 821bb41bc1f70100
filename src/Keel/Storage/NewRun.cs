namespace Keel.Storage;

/// <summary>A run to create.</summary>
public sealed record NewRun
{
    /// <summary>The run's id.</summary>
    public required string RunId { get; init; }

    /// <summary>The workflow's durable name.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>The input as JSON.</summary>
    public required string Input { get; init; }

    /// <summary>Higher runs are claimed first.</summary>
    public int Priority { get; init; }

    /// <summary>When the run was created (and is due).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The run that started this one as its child, if any: it is told when this one finishes.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The position of the parent's operation that waits for this child.</summary>
    public int? ParentSequence { get; init; }

    /// <summary>
    /// Eager start: the worker that holds the run from its creation, as if it had claimed it then (the run is Running,
    /// lease epoch 1), so the process that starts it executes it without a claim. Null for a run any worker claims. A
    /// store that does not support it creates the run unheld and returns no lease.
    /// </summary>
    public string? Owner { get; init; }

    /// <summary>
    /// The build the run starts on (<see cref="RunInfo.BuildId"/>) when it is known at creation: the starting worker's
    /// for an eager start, the source run's for a fork. Null for most runs: their first claim records the claimer's.
    /// </summary>
    public string? BuildId { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the trace the run belongs to (its start's caller, a parent run's span), so
    /// every resume of the run continues that trace; null for none.</summary>
    public string? TraceParent { get; init; }

    /// <summary>When the lease of <see cref="Owner"/> expires (another worker can claim the run then).</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>For a store: the lease of a run created held by <see cref="Owner"/> (epoch 1, as its first claim would
    /// give); null for an unheld run.</summary>
    public RunLease? HeldLease => Owner is { } owner ? new RunLease(RunId, owner, 1) : null;

    /// <summary>For a store: when a held run's lease expires (<see cref="LeaseExpiresAt"/>, or at creation when unset);
    /// null for an unheld run.</summary>
    public DateTimeOffset? HeldUntil => Owner is null ? null : LeaseExpiresAt ?? CreatedAt;
}
