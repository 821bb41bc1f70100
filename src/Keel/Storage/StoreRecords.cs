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

    /// <summary>When the lease of <see cref="Owner"/> expires (another worker can claim the run then).</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>For a store: the lease of a run created held by <see cref="Owner"/> (epoch 1, as its first claim would
    /// give); null for an unheld run.</summary>
    public RunLease? HeldLease => Owner is { } owner ? new RunLease(RunId, owner, 1) : null;

    /// <summary>For a store: when a held run's lease expires (<see cref="LeaseExpiresAt"/>, or at creation when unset);
    /// null for an unheld run.</summary>
    public DateTimeOffset? HeldUntil => Owner is null ? null : LeaseExpiresAt ?? CreatedAt;
}

/// <summary>The outcome of <see cref="IWorkflowStore.CreateRunAsync"/>.</summary>
/// <param name="Run">The stored run.</param>
/// <param name="Created">False when a run with that id existed already.</param>
public sealed record CreateRunResult(RunInfo Run, bool Created)
{
    /// <summary>The lease of <see cref="NewRun.Owner"/> on a run created held now; null otherwise.</summary>
    public RunLease? Lease { get; init; }
}

/// <summary>A worker's hold on a run. Appends are accepted only while <see cref="Epoch"/> is the run's.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Owner">The worker.</param>
/// <param name="Epoch">The fencing token: bumped by every claim.</param>
public sealed record RunLease(string RunId, string Owner, long Epoch);

/// <summary>What a worker asks for when claiming.</summary>
public sealed record ClaimRequest
{
    /// <summary>The worker's owner id.</summary>
    public required string Owner { get; init; }

    /// <summary>The workflows the worker can run.</summary>
    public required IReadOnlyCollection<string> WorkflowNames { get; init; }

    /// <summary>How many runs at most.</summary>
    public required int MaxRuns { get; init; }

    /// <summary>Now, from the worker's clock.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>When the new leases expire.</summary>
    public required DateTimeOffset LeaseExpiresAt { get; init; }

    /// <summary>
    /// Per-workflow limits on runs held at once across all workers: a workflow at its limit gets no more claims
    /// until a held run finishes, waits or is released. Workflows not listed are unlimited.
    /// </summary>
    public IReadOnlyDictionary<string, int>? ConcurrencyLimits { get; init; }

    /// <summary>
    /// How many suspect runs the claim may take, to be run alone (0 or 1; claimed beside the others, within
    /// <see cref="MaxRuns"/>). A run is suspect when its worker died holding it twice without progress in between, or
    /// when a person unblocked it; such runs are claimed only this way, charged-most first. The worker runs a suspect as
    /// the only one in its process, so that if the process dies then, the death is the suspect's: the claim that next
    /// takes it over counts it in <see cref="RunInfo.RecoveryAttempts"/>.
    /// </summary>
    public int MaxAlone { get; init; }
}

/// <summary>A run a worker now holds.</summary>
public sealed record ClaimedRun
{
    /// <summary>The lease.</summary>
    public required RunLease Lease { get; init; }

    /// <summary>The run as it was when claimed.</summary>
    public required RunInfo Run { get; init; }

    /// <summary>How many entries the run's journal has (0: a fresh run, whose journal need not be read); null when
    /// the store does not say.</summary>
    public long? JournalLength { get; init; }

    /// <summary>A suspect run claimed to be run alone (<see cref="ClaimRequest.MaxAlone"/>).</summary>
    public bool Alone { get; init; }

    /// <summary>
    /// What the run was about to do when it was last held alone (<see cref="RunUpdate.RecoveryPoint"/>, as stored):
    /// with <see cref="RunInfo.RecoveryAttempts"/> above zero, where its worker died. Null when nothing was recorded.
    /// </summary>
    public string? RecoveryPoint { get; init; }
}

/// <summary>A change to a run that goes with an append.</summary>
public sealed record RunUpdate
{
    /// <summary>The new status, or null to keep it.</summary>
    public RunStatus? Status { get; init; }

    /// <summary>The result as JSON (with Completed).</summary>
    public string? Result { get; init; }

    /// <summary>The error (with Failed or Blocked, or the last recovery error).</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>Why, in words (with Blocked or Cancelled).</summary>
    public string? StatusReason { get; init; }

    /// <summary>Give up the lease, so that any worker may claim the run once it is due.</summary>
    public bool ReleaseLease { get; init; }

    /// <summary>The run's new custom status, or null to keep it.</summary>
    public RunCustomStatus? CustomStatus { get; init; }

    /// <summary>
    /// The run, held alone as a suspect, reached a point where nothing it runs can bring its worker down (everything it
    /// does waits): it is no longer suspect, and its recovery count is reset, as progress (an appended entry) and a
    /// release of the lease also do.
    /// </summary>
    public bool Recovered { get; init; }

    /// <summary>
    /// The run's resumption failed without bringing its worker down (its code threw while its journal was replayed):
    /// count one recovery attempt against it (with <see cref="ReleaseLease"/>; the run stays suspect if it was).
    /// </summary>
    public bool FailedRecovery { get; init; }

    /// <summary>
    /// For a run held alone: what it is about to do (an opaque text of the engine's), kept until its next progress so
    /// that the claim after a death can say where it died (<see cref="ClaimedRun.RecoveryPoint"/>). The first one a holder
    /// writes arms the charge: from then on a death of that holder is the run's (see <see cref="IWorkflowStore.ClaimRunsAsync"/>).
    /// </summary>
    public string? RecoveryPoint { get; init; }

    /// <summary>When the run is next due (with <see cref="ReleaseLease"/>); null for now, or for never when
    /// <see cref="WaitsForSignals"/> is set.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>
    /// With <see cref="ReleaseLease"/>: the signal names the released run waits for. A signal of one of these names,
    /// in the inbox already or sent later, makes the run due at once; without one it is due at <see cref="DueAt"/>
    /// (never, when that is null).
    /// </summary>
    public IReadOnlyList<string>? WaitsForSignals { get; init; }

    /// <summary>
    /// With <see cref="WaitsForSignals"/>: for each name whose waiting code's payload type is known, the JSON kinds a
    /// payload may have to be read as that type ("object", "array", "string", "number", "boolean", "null"). While the run
    /// is released, <see cref="IWorkflowStore.SendSignalAsync"/> refuses a payload of another kind
    /// (<see cref="SignalOutcome.Refused"/>). Built by <see cref="StoreJson.SignalKinds"/>.
    /// </summary>
    public string? SignalPayloadKinds { get; init; }

    /// <summary>Signals the appended entries consumed: removed from the inbox in the same transaction.</summary>
    public IReadOnlyList<long>? ConsumedSignals { get; init; }

    /// <summary>Approvals the appended entries ask for: listed as pending until closed.</summary>
    public IReadOnlyList<ApprovalRecord>? OpenApprovals { get; init; }

    /// <summary>The sequence numbers of approvals the appended entries ended (decided or expired).</summary>
    public IReadOnlyList<int>? ClosedApprovals { get; init; }

    /// <summary>
    /// With a terminal status of a child run: the signal its parent waits for, stored in the parent's inbox (waking it)
    /// in the same transaction, so a parent is never left waiting for a child that finished.
    /// </summary>
    public ParentNotice? NotifyParent { get; init; }

    /// <summary>With a terminal status: the run this one continues as, created in the same transaction and linked.</summary>
    public NewRun? ContinueAs { get; init; }

    /// <summary>The time of the change.</summary>
    public required DateTimeOffset At { get; init; }
}

/// <summary>What a lease renewal found.</summary>
/// <param name="Lost">Runs whose lease is no longer the worker's.</param>
/// <param name="CancelRequested">Runs the worker holds that were asked to cancel.</param>
/// <param name="PauseRequested">Runs the worker holds that were asked to pause.</param>
/// <param name="Signalled">Runs the worker holds that have signals in their inbox.</param>
public sealed record LeaseRenewal(IReadOnlyList<string> Lost, IReadOnlyList<string> CancelRequested, IReadOnlyList<string> PauseRequested,
    IReadOnlyList<string> Signalled);

/// <summary>What a pause or resume request did.</summary>
public enum PauseOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run had finished already.</summary>
    AlreadyFinished,

    /// <summary>The run cannot be paused or resumed in its state (Blocked, NeedsAttention; or, to resume, not paused).</summary>
    NotApplicable,

    /// <summary>Done at once: the run is Paused (no worker held it), or resumed.</summary>
    Done,

    /// <summary>The run was flagged; the worker that runs it pauses it before its next operation.</summary>
    Requested,
}

/// <summary>What an unblock request did.</summary>
public enum UnblockOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run had finished already.</summary>
    AlreadyFinished,

    /// <summary>The run is not Blocked; nothing was changed.</summary>
    NotBlocked,

    /// <summary>Unblocked: the run is runnable now.</summary>
    Unblocked,
}

/// <summary>What a cancel request did.</summary>
public enum CancelOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run had finished already.</summary>
    AlreadyFinished,

    /// <summary>The run ended Cancelled at once.</summary>
    Cancelled,

    /// <summary>The run was flagged; the worker that runs it cancels it.</summary>
    Requested,
}

/// <summary>A signal to store in a run's inbox.</summary>
public sealed record NewSignal
{
    /// <summary>The run.</summary>
    public required string RunId { get; init; }

    /// <summary>The signal's name.</summary>
    public required string Name { get; init; }

    /// <summary>The payload as JSON, or null.</summary>
    public string? Payload { get; init; }

    /// <summary>When it was sent.</summary>
    public required DateTimeOffset SentAt { get; init; }
}

/// <summary>A signal in a run's inbox, not yet consumed by the run.</summary>
/// <param name="Id">Its place in arrival order (store-wide, increasing).</param>
/// <param name="Name">The signal's name.</param>
/// <param name="Payload">The payload as JSON, or null.</param>
/// <param name="SentAt">When it was sent.</param>
public sealed record StoredSignal(long Id, string Name, string? Payload, DateTimeOffset SentAt);

/// <summary>What sending a signal did.</summary>
public enum SignalOutcome
{
    /// <summary>No run has that id; nothing was stored.</summary>
    NotFound,

    /// <summary>The run has finished; nothing was stored.</summary>
    AlreadyFinished,

    /// <summary>Stored in the inbox. A released run that waits for it is due now.</summary>
    Stored,

    /// <summary>Stored in the inbox, and a worker holds the run: tell it, so it need not wait for its next lease renewal.</summary>
    StoredHeld,

    /// <summary>The run is released waiting for this signal, and the payload's JSON kind is not one its waiting code can
    /// read (<see cref="RunUpdate.SignalPayloadKinds"/>); nothing was stored.</summary>
    Refused,
}

/// <summary>An approval the run asked for, journaled with the entry that asked (see <see cref="RunUpdate.OpenApprovals"/>).</summary>
public sealed record ApprovalRecord
{
    /// <summary>The sequence number of the operation that waits for the decision.</summary>
    public required int Sequence { get; init; }

    /// <summary>The approval's durable name.</summary>
    public required string Name { get; init; }

    /// <summary>The request as JSON (title, details, action, arguments, options, deadline).</summary>
    public required string Request { get; init; }

    /// <summary>When it was asked for.</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>When the wait ends as expired, if ever.</summary>
    public DateTimeOffset? Deadline { get; init; }
}

/// <summary>What recording a decision on an approval did.</summary>
public enum DecideOutcome
{
    /// <summary>The run has no such approval waiting (never asked, or already ended).</summary>
    NotPending,

    /// <summary>Someone decided it already; the decision is on its way to the run.</summary>
    AlreadyDecided,

    /// <summary>The run has finished.</summary>
    RunFinished,

    /// <summary>Recorded; the run receives it as a signal.</summary>
    Decided,

    /// <summary>Recorded, and a worker holds the run: tell it.</summary>
    DecidedHeld,
}

/// <summary>What a finishing child run tells its parent (<see cref="RunUpdate.NotifyParent"/>).</summary>
/// <param name="ParentRunId">The parent run.</param>
/// <param name="SignalName">The signal its waiting operation consumes.</param>
/// <param name="Payload">The child's outcome as JSON.</param>
public sealed record ParentNotice(string ParentRunId, string SignalName, string Payload)
{
    /// <summary>The signal a parent's child operation at a position waits for.</summary>
    /// <param name="parentSequence">The position.</param>
    /// <returns>The signal name.</returns>
    public static string SignalNameFor(int parentSequence) => $"keel.child/{parentSequence}";

    /// <summary>The notice of a child that a store cancelled at once (it never ran, or was paused or blocked).</summary>
    /// <param name="parentRunId">The parent.</param>
    /// <param name="parentSequence">The parent's waiting position.</param>
    /// <param name="reason">Why it was cancelled.</param>
    /// <returns>The notice.</returns>
    public static ParentNotice Cancelled(string parentRunId, int parentSequence, string reason) =>
        new(parentRunId, SignalNameFor(parentSequence), KeelJson.Serialize(
            new Engine.ChildOutcomeData(RunStatus.Cancelled, null, null, reason), KeelJson.Default));
}
