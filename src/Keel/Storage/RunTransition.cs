namespace Keel.Storage;

/// <summary>
/// The run's own change in an append: its status and what goes with it (result, error, reason), whether its worker
/// lets go of it, and, when it does, when and for what it is next due, and the parent to tell when it ends.
/// </summary>
/// <remarks>The legal combinations are checked by <see cref="RunUpdate.Validate"/>: a result only with Completed, an
/// error only with Failed or Blocked (or with no new status: the last recovery error), a status a worker does not run
/// under only with <see cref="ReleaseLease"/>, a due time and awaited signals only with <see cref="ReleaseLease"/>, payload
/// kinds only with awaited signals, a parent notice only with a terminal status.</remarks>
public sealed record RunTransition
{
    /// <summary>The new status, or null to keep it. Anything but Pending or Running goes with <see cref="ReleaseLease"/>.</summary>
    public RunStatus? Status { get; init; }

    /// <summary>Give up the lease, so that any worker may claim the run once it is due.</summary>
    public bool ReleaseLease { get; init; }

    /// <summary>The result as JSON (only with Completed).</summary>
    public string? Result { get; init; }

    /// <summary>The error (with Failed or Blocked; with no new status, the last recovery error, see
    /// <see cref="RecoveryChange.Failed"/>).</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>Why, in words (with Blocked or Cancelled; with Waiting or NeedsAttention, what the run waits for).</summary>
    public string? StatusReason { get; init; }

    /// <summary>When the run is next due (only with <see cref="ReleaseLease"/>); null for now, or for never when
    /// <see cref="WaitsForSignals"/> is set.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>
    /// Only with <see cref="ReleaseLease"/>: the signal names the released run waits for. A signal of one of these names,
    /// in the inbox already or sent later, makes the run due at once; without one it is due at <see cref="DueAt"/>
    /// (never, when that is null).
    /// </summary>
    public IReadOnlyList<string>? WaitsForSignals { get; init; }

    /// <summary>
    /// Only with <see cref="WaitsForSignals"/>: for each name whose waiting code's payload type is known, the JSON kinds a
    /// payload may have to be read as that type ("object", "array", "string", "number", "boolean", "null"). While the run
    /// is released, <see cref="IWorkflowStore.SendSignalAsync"/> refuses a payload of another kind
    /// (<see cref="SignalOutcome.Refused"/>). Built by <see cref="StoreJson.SignalKinds"/>.
    /// </summary>
    public string? SignalPayloadKinds { get; init; }

    /// <summary>
    /// Only with a terminal status of a child run (and <see cref="ReleaseLease"/>): the signal its parent waits for,
    /// stored in the parent's inbox (waking it) in the same transaction, so a parent is never left waiting for a child
    /// that finished.
    /// </summary>
    public ParentNotice? NotifyParent { get; init; }
}
