namespace Keel.Storage;

/// <summary>
/// The durable store behind Keel: runs, their journals and the leases that say which worker advances which run.
/// SQLite and PostgreSQL implement it; both pass the same conformance tests.
/// </summary>
/// <remarks>
/// <para>Ownership is a lease with fencing: <see cref="ClaimRunsAsync"/> bumps a run's lease epoch, and
/// <see cref="AppendAsync"/> succeeds only while the caller's epoch is still the run's. A worker whose lease was
/// taken over can therefore never append, even if it wakes after a long pause.</para>
/// <para>Expected races return values (<see cref="CreateRunResult"/>, false from <see cref="AppendAsync"/>); methods
/// throw only on real failures, as <see cref="StorageException"/>.</para>
/// <para>Implementations are thread-safe.</para>
/// </remarks>
public interface IWorkflowStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema; refuses a schema from a newer Keel.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a run, or returns the existing one with that id.</summary>
    /// <param name="run">The run to create.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored run, and whether it was created now.</returns>
    Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken = default);

    /// <summary>Gets a run; null when there is none with that id.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run, or null.</returns>
    Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Gets several runs in one read (clients waiting for many runs at once read them together).</summary>
    /// <param name="runIds">The runs.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The runs that exist, in no particular order.</returns>
    Task<IReadOnlyList<RunInfo>> GetRunsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default);

    /// <summary>Gets a run's journal in order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entries, by index.</returns>
    Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Lists runs, newest first.</summary>
    /// <param name="query">Filters and paging.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One page.</returns>
    Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>Counts the runs the query's filters match, per status (its limit and cursor are ignored); statuses with no
    /// run are left out.</summary>
    /// <param name="query">Filters.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many runs are in each status.</returns>
    Task<IReadOnlyDictionary<RunStatus, int>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims runnable runs for a worker: Pending or Running ones that are due and whose lease is free or expired,
    /// highest priority first, then earliest due. Each claim bumps the lease epoch. A store may look for expired leases
    /// only every so often (on <see cref="ClaimRequest.Now"/>'s clock; PostgreSQL: every 250 ms), so a run whose holder
    /// died can be taken over that much after its lease expired.
    /// </summary>
    /// <remarks>
    /// Blame for a worker's death is kept per run. A run taken over from a holder that did not release it (the holder
    /// died, or stalled past its lease) was interrupted: the first time it is claimed as usual; interrupted again before
    /// any progress, it is suspect and is claimed only as one of <see cref="ClaimRequest.MaxAlone"/>, to be run alone
    /// (a run a person unblocked is suspect too). A suspect taken over from a holder that ran it alone, and had begun to
    /// run its code (it recorded a <see cref="RecoveryChange.Point"/>), is charged one recovery attempt
    /// (<see cref="RunInfo.RecoveryAttempts"/>): a holder that died before that, still starting up, says nothing about it. Progress (an appended entry), a release of the lease and
    /// <see cref="RecoveryChange.Recovered"/> clear all of it.
    /// </remarks>
    /// <param name="request">Who claims, for which workflows, how many, and for how long.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The claimed runs.</returns>
    Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends entries to a run's journal and applies an optional change to the run, in one transaction,
    /// if the lease is still the caller's. Appending at least one entry counts as progress: the run is no longer
    /// interrupted or suspect, and its recovery count is reset (see <see cref="ClaimRunsAsync"/>).
    /// </summary>
    /// <param name="lease">The caller's lease.</param>
    /// <param name="entries">Entries to append, in order; may be empty.</param>
    /// <param name="update">A change to the run, or null. A store checks it with <see cref="RunUpdate.Validate"/> first.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when the lease is no longer the caller's: nothing was written and the caller must drop the run.</returns>
    /// <exception cref="ArgumentException"><paramref name="update"/> combines changes that do not go together (see
    /// <see cref="RunUpdate.Validate"/>); nothing was written.</exception>
    Task<bool> AppendAsync(RunLease lease, IReadOnlyList<JournalEntry> entries, RunUpdate? update, CancellationToken cancellationToken = default);

    /// <summary>Extends the leases a worker holds and reports runs it lost or that were asked to cancel.</summary>
    /// <param name="owner">The worker.</param>
    /// <param name="leases">The leases it believes it holds.</param>
    /// <param name="expiresAt">The new expiry.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What changed.</returns>
    Task<LeaseRenewal> RenewLeasesAsync(string owner, IReadOnlyCollection<RunLease> leases, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Asks a run to cancel. A run no worker holds and that has not started, or a blocked one, ends Cancelled at once.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="reason">Why, for the record.</param>
    /// <param name="at">The time of the request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<CancelOutcome> RequestCancelAsync(string runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pauses a run. One no live worker holds becomes Paused at once (and any stale holder is fenced out); a held one
    /// is flagged, and its worker pauses it once its in-flight step bodies are journaled.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="at">The time of the request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<PauseOutcome> RequestPauseAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Resumes a Paused run (it becomes runnable now), or withdraws a pause request not yet acted on.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="at">The time of the request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<PauseOutcome> ResumeAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Unblocks a Blocked run: in one transaction it journals who unblocked it and why (a
    /// <see cref="JournalEntryKind.RunUnblocked"/> entry), makes it runnable now with a fresh recovery budget, and marks it
    /// suspect, so the worker that claims it first runs it alone (a quarantined run may still bring its worker down).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="action">Who unblocks it and why, as the entry's payload (JSON).</param>
    /// <param name="at">The time of the request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<UnblockOutcome> UnblockAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retries a Failed run: in one transaction it journals who retried it and why (a <see cref="JournalEntryKind.RunRetried"/>
    /// entry) and makes it runnable now, its result, error and completion cleared. Its worker continues it from the step whose
    /// failure ended it, with a fresh attempt budget (the failures stay in the journal).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="action">Who retries it and why, as the entry's payload (JSON).</param>
    /// <param name="at">The time of the request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<RetryOutcome> RetryAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Journals a record about a run from outside it (a person's pause, resume, priority change or cancel request, with who
    /// and why) at the end of its journal, whoever holds the run: its worker's next append follows it. Only records
    /// (<see cref="JournalKinds.RoleOf"/> is <see cref="EntryRole.RunRecord"/>, in no position) are accepted: they are never
    /// replayed, so the run's code is not affected.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="record">The record (its index is assigned).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when no run has the id.</returns>
    /// <exception cref="ArgumentException">The entry is not a run record in no position.</exception>
    Task<bool> AppendRunRecordAsync(string runId, JournalEntry record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a fork of a run in one transaction: a new run (unheld, due now) whose journal starts as given (the source's
    /// prefix, at most a person's replacement outcome, and a <see cref="JournalEntryKind.RunForked"/> record), and the same
    /// record appended to the source's journal, so each run links to the other.
    /// </summary>
    /// <param name="fork">The new run.</param>
    /// <param name="journal">The new run's journal, in order (indexes assigned from 0).</param>
    /// <param name="sourceRunId">The run forked from.</param>
    /// <param name="sourceRecord">The record appended to the source's journal.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<ForkOutcome> ForkAsync(NewRun fork, IReadOnlyList<JournalEntry> journal, string sourceRunId, JournalEntry sourceRecord,
        CancellationToken cancellationToken = default);

    /// <summary>Changes a run's priority; it applies from the run's next claim (a run held by a worker keeps going).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="priority">Higher runs are claimed first.</param>
    /// <param name="at">The time of the change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run as changed, or null when there is none with that id.</returns>
    Task<RunInfo?> SetPriorityAsync(string runId, int priority, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores messages by their hash, idempotently (one already there is left as it is), and links each to the run that
    /// refers to it, in one transaction. A journal then names them by hash. A message stays while any run linked to it
    /// remains: <see cref="PurgeFinishedRunsAsync"/> removes a purged run's links and, in the same transaction, the messages
    /// no remaining run is linked to; a fork is linked to what its source was (<see cref="ForkAsync"/>).
    /// </summary>
    /// <remarks>Put the messages before the append that refers to them: after a crash between the two the messages are
    /// linked to the run anyway, and go when it is purged.</remarks>
    /// <param name="runId">The run that refers to them.</param>
    /// <param name="messages">The messages; repeats of a hash are stored once.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when they are committed.</returns>
    Task PutMessagesAsync(string runId, IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>Gets stored messages by their hashes.</summary>
    /// <param name="hashes">The hashes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The messages found, by hash (a hash not stored, or purged, is missing).</returns>
    Task<IReadOnlyDictionary<string, string>> GetMessagesAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets every stored message linked to a run (<see cref="PutMessagesAsync"/>, and a fork's links to its source's), in one
    /// read: what a worker loads before the run's code replays, and what an export carries.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The messages by hash; empty when none is linked (or there is no such run).</returns>
    Task<IReadOnlyDictionary<string, string>> GetRunMessagesAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes finished runs (Completed, Failed, Cancelled) that finished before a time, with their journals: at most
    /// <paramref name="batchSize"/> runs per call, oldest first, so a large purge never holds a long transaction. Their
    /// links to stored messages go with them, and so, in the same transaction, do the messages no remaining run is linked to
    /// (<see cref="PutMessagesAsync"/>).
    /// </summary>
    /// <param name="finishedBefore">Runs that finished before this time go.</param>
    /// <param name="batchSize">Runs per call at most.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many runs were deleted; fewer than <paramref name="batchSize"/> means none is left to purge.</returns>
    Task<int> PurgeFinishedRunsAsync(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a worker in the registry (inserted, or replaced by its <see cref="WorkerInfo.WorkerId"/>): at start, every
    /// few seconds while it runs (<see cref="WorkerInfo.LastSeenAt"/>), and when it stops. Workers not seen for
    /// 30 days are removed.
    /// </summary>
    /// <param name="worker">The worker as it is now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when it is stored.</returns>
    Task RecordWorkerAsync(WorkerInfo worker, CancellationToken cancellationToken = default);

    /// <summary>Lists the registered workers last seen at or after a time, most recently seen first.</summary>
    /// <param name="seenSince">Leave out workers not seen since then.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The workers.</returns>
    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(DateTimeOffset seenSince, CancellationToken cancellationToken = default);

    /// <summary>Lists the owners of unexpired leases on unfinished runs.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Owner ids.</returns>
    Task<IReadOnlyList<string>> GetLeaseOwnersAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends every lease held by the given owners now (they are known to be dead).</summary>
    /// <param name="owners">Owner ids.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many runs were freed.</returns>
    Task<int> ExpireLeasesAsync(IReadOnlyCollection<string> owners, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a signal in a run's inbox, unless the run is unknown or finished. Signals are kept until the run consumes
    /// them (<see cref="InboxChange.ConsumedSignals"/>), in arrival order. A released run that waits for this name
    /// (<see cref="RunTransition.WaitsForSignals"/>) becomes due at once.
    /// </summary>
    /// <param name="signal">The signal.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<SignalOutcome> SendSignalAsync(NewSignal signal, CancellationToken cancellationToken = default);

    /// <summary>Gets a run's unconsumed signals, in arrival order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The signals.</returns>
    Task<IReadOnlyList<StoredSignal>> GetSignalsAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Lists approvals that wait for a decision, oldest first.</summary>
    /// <param name="runId">Only this run's, or null for all runs.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The approvals.</returns>
    Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a decision on a pending approval and sends it to the run as the signal
    /// <paramref name="signalName"/>, in one transaction; a second decision on the same approval is refused.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The approval's sequence number.</param>
    /// <param name="signalName">The signal the run's approval operation waits for.</param>
    /// <param name="decision">The decision as JSON.</param>
    /// <param name="at">When it was decided.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    Task<DecideOutcome> DecideApprovalAsync(string runId, int sequence, string signalName, string decision, DateTimeOffset at, CancellationToken cancellationToken = default);
}
