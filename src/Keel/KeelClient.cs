using System.Text.Json;
using Keel.Engine;
using Keel.Storage;

namespace Keel;

/// <summary>Starts, inspects, waits for and cancels runs. Thread-safe; one per process is enough.</summary>
public sealed class KeelClient
{
    private readonly IWorkflowStore _store;
    private readonly KeelOptions _options;
    private readonly WorkflowRegistry? _registry;
    private readonly RunNotifier _notifier;
    private readonly ILocalStarter? _localStarter;
    private readonly TimeProvider _time;

    private static readonly TimeSpan MaxWaitPoll = TimeSpan.FromSeconds(2);

    /// <summary>The fallback poll of a waiter whose store reports finished runs (a lost notification costs this much).</summary>
    private static readonly TimeSpan NotifiedWaitPoll = TimeSpan.FromSeconds(5);

    // Subscribes this client's waiters to the store's finished-run notifications at the first wait (a CLI command that
    // never waits opens no LISTEN connection); false when the store has none.
    private readonly Lazy<bool> _finishedRunsReported;

    // The waiters' reads of runs, batched (many runs that end together are read in one round trip).
    private readonly RunReadBatcher _waiterReads;

    internal KeelClient(IWorkflowStore store, KeelOptions options, WorkflowRegistry? registry, RunNotifier notifier, TimeProvider timeProvider,
        ILocalStarter? localStarter = null)
    {
        _localStarter = localStarter;
        _store = store;
        _options = options;
        _registry = registry;
        _notifier = notifier;
        _time = timeProvider;
        _finishedRunsReported = new(() => store is IStoreWakeup wakeup && wakeup.WatchFinishedRuns(notifier.NotifyRunChanged));
        _waiterReads = new RunReadBatcher(store);
    }

    /// <summary>
    /// Completes at the next hint that runs may have changed: an action of this client or of a worker in this process, or a
    /// notification of the store from another process (PostgreSQL). A hint only: live views still poll for what nothing
    /// announces (appends of workers elsewhere).
    /// </summary>
    internal Task ChangeHint => _store is IStoreWakeup wakeup ? Task.WhenAny(_notifier.WorkAvailable, wakeup.WorkAvailable) : _notifier.WorkAvailable;

    /// <summary>
    /// Creates a client over a store without knowing the workflows (as the CLI does): workflow names and inputs
    /// are then checked by the worker that runs them.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="options">Serializer settings and poll interval; null for defaults.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <returns>The client.</returns>
    public static KeelClient Create(IWorkflowStore store, KeelOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        return new KeelClient(store, options ?? new KeelOptions(), null, new RunNotifier(), timeProvider ?? TimeProvider.System);
    }

    /// <summary>
    /// This client acting for a person: the pauses, resumes, priority changes and cancellations it makes are journaled in
    /// the run with who did them and why (<see cref="DecisionKind.OperatorAction"/> in <see cref="RunHistory.Decisions"/>).
    /// Without it they are journaled too, by no one in particular.
    /// </summary>
    /// <param name="by">Who acts (a person or a system).</param>
    /// <param name="reason">Why, for the record, if said.</param>
    /// <returns>A client that shares this one's store and settings.</returns>
    public KeelClient As(string? by, string? reason = null) =>
        new(_store, _options, _registry, _notifier, _time, _localStarter) { _actor = new OperatorActionData(by, reason) };

    private OperatorActionData _actor = new(null, null);

    /// <summary>Journals a person's action on the run (after the action took effect; a lost record loses no state).</summary>
    private Task<bool> RecordActionAsync(string runId, string action, int? priority, string? reason, CancellationToken cancellationToken,
        string? signal = null) =>
        _store.AppendRunRecordAsync(runId, new JournalEntry
        {
            Sequence = 0, Kind = JournalEntryKind.OperatorAction, Name = action, RecordedAt = _time.GetUtcNow(),
            Payload = (_actor with { Reason = reason ?? _actor.Reason, Priority = priority, Signal = signal }).ToJson(),
        }, cancellationToken);

    /// <summary>Starts a run, or returns the existing run when <see cref="StartWorkflowOptions.RunId"/> is taken by the same workflow.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="workflowName">The workflow's durable name.</param>
    /// <param name="input">The input, serialized with System.Text.Json.</param>
    /// <param name="options">Run id and priority.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run, and whether it was created.</returns>
    /// <remarks>When this process registers workflows, the name and input are checked against them before anything is
    /// stored; a client that registers none (workers run elsewhere) checks only that the input is JSON.</remarks>
    /// <exception cref="WorkflowNotFoundException">This process registers workflows, and not this one.</exception>
    /// <exception cref="InvalidWorkflowInputException">The input does not fit the workflow's input type.</exception>
    /// <exception cref="WorkflowAlreadyExistsException">The run id is taken by a run of another workflow.</exception>
    public Task<StartResult> StartAsync<TInput>(string workflowName, TInput input, StartWorkflowOptions? options = null, CancellationToken cancellationToken = default) =>
        StartWithJsonAsync(workflowName, KeelJson.Serialize(input, _options.SerializerOptions), options, cancellationToken);

    /// <summary>Starts a run from input given as JSON text. See <see cref="StartAsync{TInput}"/>.</summary>
    /// <param name="workflowName">The workflow's durable name.</param>
    /// <param name="inputJson">The input as JSON.</param>
    /// <param name="options">Run id and priority.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run, and whether it was created.</returns>
    public async Task<StartResult> StartWithJsonAsync(string workflowName, string inputJson, StartWorkflowOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        ArgumentNullException.ThrowIfNull(inputJson);
        if (options?.RunId is not null)
        {
            RunIds.Validate(options.RunId);
        }
        PayloadLimits.Check(inputJson, _options.Limits.MaxRunInputBytes, nameof(PayloadLimits.MaxRunInputBytes), (options?.RunId, workflowName),
            static s => $"input of {(s.RunId is { } id ? $"run '{id}'" : "a new run")} of workflow '{s.workflowName}'");
        if (_registry is not null && _registry.TryGet(workflowName, out var definition))
        {
            definition.DeserializeInput(inputJson, _options.SerializerOptions);
        }
        else
        {
            try
            {
                using var _ = JsonDocument.Parse(inputJson);
            }
            catch (JsonException ex)
            {
                throw new InvalidWorkflowInputException(workflowName, typeof(JsonElement), ex);
            }
            if (options?.AllowUnknownWorkflow != true)
            {
                await EnsureServedAsync(workflowName, cancellationToken);
            }
        }
        var runId = options?.RunId ?? Guid.CreateVersion7().ToString("N");
        // Eager start: the worker of this process, when it has room, holds the run from its creation and executes it
        // at once (no claim, no wake-up of other workers).
        var eager = _localStarter?.TryReserveStart(workflowName);
        CreateRunResult created;
        try
        {
            created = await _store.CreateRunAsync(new NewRun
            {
                RunId = runId, WorkflowName = workflowName, Input = inputJson, Priority = options?.Priority ?? 0,
                CreatedAt = _time.GetUtcNow(), Owner = eager?.Owner, LeaseExpiresAt = eager?.LeaseExpiresAt, BuildId = eager?.BuildId,
                TraceParent = KeelTelemetry.CurrentTraceParent(), // the caller's trace: every resume of the run continues it
            }, cancellationToken);
        }
        catch
        {
            eager?.Cancel();
            throw;
        }
        if (eager is not null && created.Lease is { } lease)
        {
            await eager.StartAsync(new ClaimedRun { Lease = lease, Run = created.Run, JournalLength = 0 });
        }
        else
        {
            eager?.Cancel();
            if (created.Created)
            {
                _notifier.NotifyWork();
            }
        }
        if (!created.Created && !string.Equals(created.Run.WorkflowName, workflowName, StringComparison.Ordinal))
        {
            throw new WorkflowAlreadyExistsException(created.Run, workflowName);
        }
        return new StartResult(runId, created.Created, created.Run);
    }

    /// <summary>Refuses a workflow that no worker seen within <see cref="KeelOptions.KnownWorkflowWindow"/> serves (the
    /// registry is read again on a miss, so a worker that just started counts).</summary>
    private async Task EnsureServedAsync(string workflowName, CancellationToken cancellationToken)
    {
        var served = Volatile.Read(ref _served);
        if (served is not null && served.At > _time.GetUtcNow() - ServedCacheTime && served.Names.Contains(workflowName))
        {
            return;
        }
        var workers = await _store.ListWorkersAsync(_time.GetUtcNow() - _options.KnownWorkflowWindow, cancellationToken);
        served = new ServedWorkflows(workers.SelectMany(w => w.Workflows).ToHashSet(StringComparer.Ordinal), _time.GetUtcNow());
        Volatile.Write(ref _served, served);
        if (!served.Names.Contains(workflowName))
        {
            throw new WorkflowNotFoundException(workflowName, served.Names, _options.KnownWorkflowWindow);
        }
    }

    private static readonly TimeSpan ServedCacheTime = TimeSpan.FromSeconds(5);
    private ServedWorkflows? _served;

    private sealed record ServedWorkflows(HashSet<string> Names, DateTimeOffset At);

    /// <summary>Lists the workers registered in the store that were seen within a time (see <see cref="WorkerInfo"/>).</summary>
    /// <param name="seenWithin">How far back; null for <see cref="KeelOptions.KnownWorkflowWindow"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The workers, most recently seen first.</returns>
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(TimeSpan? seenWithin = null, CancellationToken cancellationToken = default) =>
        _store.ListWorkersAsync(_time.GetUtcNow() - (seenWithin ?? _options.KnownWorkflowWindow), cancellationToken);

    /// <summary>Gets a run; null when there is none with that id.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run, or null.</returns>
    public Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        return _store.GetRunAsync(runId, cancellationToken);
    }

    /// <summary>Gets a run's journal, in order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The journal.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    public async Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken = default)
    {
        _ = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        return await _store.GetJournalAsync(runId, cancellationToken);
    }

    /// <summary>
    /// Gets a run's history as its journal tells it (<see cref="RunHistory"/>): its operations and where each is, the
    /// attempts of its steps, what it waits for, the decisions taken, and the step that waits for a person, if any.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The history, or null when there is no run with that id.</returns>
    /// <remarks>The run is read before its journal, so the journal holds every entry up to the state the run shows.</remarks>
    public async Task<RunHistory?> GetHistoryAsync(string runId, CancellationToken cancellationToken = default)
    {
        var run = await GetRunAsync(runId, cancellationToken);
        return run is null ? null : RunHistory.Build(run, await _store.GetJournalAsync(runId, cancellationToken));
    }

    /// <summary>
    /// Hands a run over to a person: what it is for, where it is and why, what ran, what was decided, what failed and why,
    /// what remains, and what can be done next (<see cref="RunHandoff"/>), from its journal alone.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The handoff, or null when there is no such run.</returns>
    public async Task<RunHandoff?> GetHandoffAsync(string runId, CancellationToken cancellationToken = default) =>
        await GetHistoryAsync(runId, cancellationToken) is { } history ? RunHandoff.From(history) : null;

    /// <summary>Lists runs, newest first, with filters and paging.</summary>
    /// <param name="query">Filters and page; null for the first 50 runs.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One page.</returns>
    public Task<RunPage> ListRunsAsync(RunQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new RunQuery();
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, 1000, nameof(query));
        return _store.ListRunsAsync(query, cancellationToken);
    }

    /// <summary>Counts runs per status, with the filters of a list (its limit and cursor ignored): what a runs page shows
    /// beside its filters. It reads every matching run's row: narrow it (a workflow, a time) on large stores.</summary>
    /// <param name="query">Filters; null for all runs.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many runs are in each status; statuses with none are left out.</returns>
    public Task<IReadOnlyDictionary<RunStatus, int>> CountRunsAsync(RunQuery? query = null, CancellationToken cancellationToken = default) =>
        _store.CountRunsAsync(query ?? new RunQuery(), cancellationToken);

    /// <summary>
    /// Waits until the run is Completed, Failed, Cancelled or Blocked, and returns it. A run that continued as new is
    /// followed to the last run of its chain, which is returned.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Ends the wait (the run goes on).</param>
    /// <returns>The run as it ended.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    public async Task<RunInfo> WaitForCompletionAsync(string runId, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        // A run this process executes is not read while it runs: its executor's end (finished, released to wait, lease
        // lost) notifies, and so does its claim. A store that reports runs finished by other processes (PostgreSQL)
        // notifies too, and then a slow poll is only the fallback; otherwise other runs are polled, backing off from
        // PollInterval to MaxWaitPoll so thousands of waiters do not hammer the store.
        var notified = _finishedRunsReported.Value;
        var maxPoll = notified ? TimeSpan.FromTicks(Math.Max(NotifiedWaitPoll.Ticks, _options.PollInterval.Ticks)) : MaxWaitPoll;
        var poll = notified ? maxPoll : _options.PollInterval;
        while (true)
        {
            var changed = _notifier.WhenRunChangesAsync(runId);
            if (_localStarter?.Holds(runId) == true)
            {
                await changed.WaitAsync(cancellationToken);
                continue;
            }
            var run = await _waiterReads.GetAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
            if (run.ContinuedAsRunId is { } next)
            {
                runId = next; // continued as new: the chain's last run has the result
                continue;
            }
            if (run.Status.IsTerminal() || run.Status == RunStatus.Blocked)
            {
                return run;
            }
            using (var pacing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // Real-time pacing; the timer is stopped when a notification comes first (waits may poll every 30 s).
                await Task.WhenAny(changed, Task.Delay(poll, TimeProvider.System, pacing.Token));
                await pacing.CancelAsync();
            }
            cancellationToken.ThrowIfCancellationRequested();
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, maxPoll.Ticks));
        }
    }

    /// <summary>Waits for the run and returns its result.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Ends the wait (the run goes on).</param>
    /// <returns>The result.</returns>
    /// <exception cref="WorkflowFailedException">The run ended Failed, Cancelled or Blocked.</exception>
    public async Task<TResult> GetResultAsync<TResult>(string runId, CancellationToken cancellationToken = default)
    {
        var run = await WaitForCompletionAsync(runId, cancellationToken);
        return run.Status == RunStatus.Completed
            ? run.GetResult<TResult>(_options.SerializerOptions)!
            : throw new WorkflowFailedException(run);
    }

    /// <summary>
    /// Pauses a run: it stops before its next operation (a step in flight finishes and its outcome is kept) and stays
    /// Paused, across restarts, until <see cref="ResumeAsync"/>. A run no worker is executing is Paused at once.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True when the run is Paused now; false when its worker was asked and pauses it shortly.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished.</exception>
    /// <exception cref="RunStateException">The run cannot be paused in its state (Blocked, already Paused).</exception>
    public async Task<bool> PauseAsync(string runId, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        var outcome = await _store.RequestPauseAsync(runId, _time.GetUtcNow(), cancellationToken);
        if (outcome == PauseOutcome.Requested)
        {
            _notifier.NotifyRunRequest(RunRequest.Pause, runId);
        }
        var now = await SettlePauseOutcomeAsync(runId, outcome, "be paused", cancellationToken);
        await RecordActionAsync(runId, "pause", null, null, cancellationToken);
        return now;
    }

    /// <summary>Resumes a Paused run (any worker continues it where it stopped), or withdraws a pause not yet acted on.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the run is runnable again.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished.</exception>
    /// <exception cref="RunStateException">The run is not paused.</exception>
    public async Task ResumeAsync(string runId, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        var outcome = await _store.ResumeAsync(runId, _time.GetUtcNow(), cancellationToken);
        await SettlePauseOutcomeAsync(runId, outcome, "be resumed: it is not paused", cancellationToken);
        await RecordActionAsync(runId, "resume", null, null, cancellationToken);
        _notifier.NotifyWork();
    }

    private async Task<bool> SettlePauseOutcomeAsync(string runId, PauseOutcome outcome, string operation, CancellationToken cancellationToken)
    {
        switch (outcome)
        {
            case PauseOutcome.NotFound:
                throw new RunNotFoundException(runId);
            case PauseOutcome.AlreadyFinished:
                throw new RunFinishedException(runId, (await GetRunAsync(runId, cancellationToken))?.Status ?? RunStatus.Completed, operation);
            case PauseOutcome.NotApplicable:
                throw new RunStateException(runId, (await GetRunAsync(runId, cancellationToken))?.Status ?? RunStatus.Blocked, operation);
            default:
                _notifier.NotifyRunChanged(runId);
                return outcome == PauseOutcome.Done;
        }
    }

    /// <summary>Changes a run's priority. Workers take runnable work by priority, then due time; a run held by a worker
    /// keeps running, and the new priority applies from its next scheduling (after a wait, a retry backoff, a restart).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="priority">Higher runs first.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run as changed.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished already.</exception>
    public async Task<RunInfo> SetPriorityAsync(string runId, int priority, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        var current = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        if (current.Status.IsTerminal())
        {
            throw new RunFinishedException(runId, current.Status, "change its priority");
        }
        var changed = await _store.SetPriorityAsync(runId, priority, _time.GetUtcNow(), cancellationToken) ?? throw new RunNotFoundException(runId);
        await RecordActionAsync(runId, "priority", priority, null, cancellationToken);
        return changed;
    }

    /// <summary>
    /// Cancels a run. A run that no worker is executing ends Cancelled at once; a running one is cancelled by its
    /// worker: the token of the step in flight fires and the workflow code sees an <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="reason">Why, for the record.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the request is stored.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished already.</exception>
    public async Task CancelAsync(string runId, string? reason = null, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        var outcome = await _store.RequestCancelAsync(runId, reason, _time.GetUtcNow(), cancellationToken);
        switch (outcome)
        {
            case CancelOutcome.NotFound:
                throw new RunNotFoundException(runId);
            case CancelOutcome.AlreadyFinished:
                var run = await GetRunAsync(runId, cancellationToken);
                throw new RunFinishedException(runId, run?.Status ?? RunStatus.Completed, "be cancelled");
            case CancelOutcome.Requested:
                _notifier.NotifyRunRequest(RunRequest.Cancel, runId);
                break;
            default:
                _notifier.NotifyRunChanged(runId);
                break;
        }
        await RecordActionAsync(runId, "cancel", null, reason, cancellationToken);
    }

    /// <summary>
    /// Unblocks a Blocked run (stopped by nondeterminism, or quarantined after its recoveries kept failing) once its cause
    /// is fixed: it continues where it stopped, with a fresh recovery budget. Who unblocked it and why are journaled. The
    /// worker that takes it first runs it alone among suspect runs, so a run that still brings its worker down is
    /// quarantined again without taking others with it; a run whose code still differs from its journal blocks again.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="by">Who unblocks it, for the record.</param>
    /// <param name="reason">Why, for the record.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the run is runnable again.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished.</exception>
    /// <exception cref="RunStateException">The run is not Blocked.</exception>
    public async Task UnblockAsync(string runId, string? by = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        var outcome = await _store.UnblockAsync(runId, new OperatorActionData(by, reason).ToJson(), _time.GetUtcNow(), cancellationToken);
        switch (outcome)
        {
            case UnblockOutcome.NotFound:
                throw new RunNotFoundException(runId);
            case UnblockOutcome.AlreadyFinished:
                throw new RunFinishedException(runId, (await GetRunAsync(runId, cancellationToken))?.Status ?? RunStatus.Completed, "be unblocked");
            case UnblockOutcome.NotBlocked:
                throw new RunStateException(runId, (await GetRunAsync(runId, cancellationToken))?.Status ?? RunStatus.Running, "be unblocked: it is not Blocked");
        }
        _notifier.NotifyRunChanged(runId);
        _notifier.NotifyWork();
    }

    /// <summary>
    /// Sends a signal to a run. It is stored durably in the run's inbox at once, whether or not the run is loaded or
    /// waiting yet, and delivered once to the first <see cref="WorkflowContext.WaitForSignalAsync{T}"/> of that name.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="runId">The run.</param>
    /// <param name="name">The signal's name.</param>
    /// <param name="payload">The payload, serialized with System.Text.Json.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the signal is stored.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished: nothing would receive the signal.</exception>
    public Task SignalAsync<T>(string runId, string name, T payload, CancellationToken cancellationToken = default) =>
        SignalWithJsonAsync(runId, name, KeelJson.Serialize(payload, _options.SerializerOptions), cancellationToken);

    /// <summary>Sends a signal whose payload is given as JSON text. See <see cref="SignalAsync{T}"/>.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="name">The signal's name.</param>
    /// <param name="payloadJson">The payload as JSON, or null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the signal is stored.</returns>
    /// <exception cref="ArgumentException">The payload is not JSON, or the name is reserved.</exception>
    /// <remarks>A client acting for someone (<see cref="As"/>) also journals who sent it and why (an operator action
    /// <c>signal</c> in <see cref="RunHistory.Decisions"/>); the run's <see cref="JournalEntryKind.SignalReceived"/> says when
    /// it was taken.</remarks>
    public async Task SignalWithJsonAsync(string runId, string name, string? payloadJson, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        SignalNames.Validate(name);
        if (payloadJson is not null)
        {
            PayloadLimits.Check(payloadJson, _options.Limits.MaxSignalPayloadBytes, nameof(PayloadLimits.MaxSignalPayloadBytes), (name, runId),
                static s => $"payload of signal '{s.name}' to run '{s.runId}'");
            EnsureJson(payloadJson, $"The payload of signal '{name}'", nameof(payloadJson));
        }
        await SendAsync(new NewSignal { RunId = runId, Name = name, Payload = payloadJson, SentAt = _time.GetUtcNow() }, $"receive signal '{name}'", cancellationToken);
        if (_actor.By is not null)
        {
            await RecordActionAsync(runId, "signal", null, null, cancellationToken, signal: name);
        }
    }

    /// <summary>Stores a signal (user or Keel's own), turns a refusal into the exception, and wakes this process's worker.</summary>
    private async Task SendAsync(NewSignal signal, string operation, CancellationToken cancellationToken)
    {
        switch (await _store.SendSignalAsync(signal, cancellationToken))
        {
            case SignalOutcome.NotFound:
                throw new RunNotFoundException(signal.RunId);
            case SignalOutcome.AlreadyFinished:
                throw new RunFinishedException(signal.RunId, (await GetRunAsync(signal.RunId, cancellationToken))?.Status ?? RunStatus.Completed, operation);
            case SignalOutcome.StoredHeld:
                _notifier.NotifyRunRequest(RunRequest.Signals, signal.RunId);
                break;
            case SignalOutcome.Refused:
                throw new ArgumentException($"Run '{signal.RunId}' waits for signal '{signal.Name}', and its workflow cannot read a JSON " +
                    $"{StoreJson.KindOf(signal.Payload!)} there: send a payload of the type it waits for. Nothing was stored.");
            default:
                _notifier.NotifyWork();
                break;
        }
    }

    /// <summary>Lists approvals waiting for a decision, oldest first (the longest-waiting at the top).</summary>
    /// <param name="runId">Only this run's; null for every run's.</param>
    /// <param name="limit">At most this many (1 to 1000).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The approvals.</returns>
    public Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        if (runId is not null)
        {
            RunIds.ValidateExisting(runId);
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        return _store.ListPendingApprovalsAsync(runId, limit, cancellationToken);
    }

    /// <summary>
    /// Approves or rejects an approval a run waits for. The decision (who, when, comment, edited arguments) is stored
    /// and delivered to the run, which journals it; deciding the same approval twice is refused.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="response">The decision; <see cref="ApprovalResponse.ApprovalName"/> picks one when the run waits for several.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The approval that was decided.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished.</exception>
    /// <exception cref="ApprovalNotPendingException">The run waits for no such approval (or it was decided already).</exception>
    /// <exception cref="ArgumentException">The edited arguments are not JSON, come with a rejection, or the option was not offered.</exception>
    public async Task<PendingApproval> DecideApprovalAsync(string runId, ApprovalResponse response, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        ArgumentNullException.ThrowIfNull(response);
        JsonElement? edited = null;
        if (response.ArgumentsJson is { } json)
        {
            if (!response.Approved)
            {
                throw new ArgumentException("Edited arguments go with an approval, not a rejection.", nameof(response));
            }
            PayloadLimits.Check(json, _options.Limits.MaxApprovalArgumentsBytes, nameof(PayloadLimits.MaxApprovalArgumentsBytes), runId,
                static id => $"edited arguments of an approval of run '{id}'");
            edited = EnsureJson(json, "The edited arguments", nameof(response));
        }
        var run = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        if (run.Status.IsTerminal())
        {
            throw new RunFinishedException(runId, run.Status, "take a decision on an approval");
        }
        var pending = await _store.ListPendingApprovalsAsync(runId, 1000, cancellationToken);
        var approval = pending.FirstOrDefault(a => (response.ApprovalName is null || string.Equals(a.Name, response.ApprovalName, StringComparison.Ordinal))
                                                   && (response.Sequence is null || a.Sequence == response.Sequence));
        if (approval is null && response.Sequence is { } sequence)
        {
            throw new ApprovalNotPendingException(runId, $"Run '{runId}' no longer waits for the approval requested at position {sequence}: " +
                "it was decided or expired. Nothing was changed.");
        }
        if (approval is null)
        {
            throw new ApprovalNotPendingException(runId, pending.Count == 0
                ? $"Run '{runId}' ({run.Status}) is not waiting for an approval{(response.ApprovalName is null ? "" : $" named '{response.ApprovalName}'")}. " +
                  "List the ones that wait with `keel pending`."
                : $"Run '{runId}' is not waiting for an approval named '{response.ApprovalName}'; it waits for: " +
                  string.Join(", ", pending.Select(a => $"'{a.Name}'")) + ".");
        }
        if (response.Option is { } option && !approval.Options.Contains(option, StringComparer.Ordinal))
        {
            throw new ArgumentException(approval.Options.Count == 0
                ? $"Approval '{approval.Name}' offers no options; '{option}' cannot be chosen."
                : $"'{option}' is not one of the options approval '{approval.Name}' offers: {string.Join(", ", approval.Options)}.", nameof(response));
        }
        var now = _time.GetUtcNow();
        var decision = new ApprovalDecisionData(response.Approved ? ApprovalOutcome.Approved : ApprovalOutcome.Rejected, response.By,
            response.Comment, response.Option, edited, now);
        var outcome = await _store.DecideApprovalAsync(runId, approval.Sequence, ApprovalDecisionData.SignalName(approval.Sequence),
            KeelJson.Serialize(decision, KeelJson.Default), now, cancellationToken);
        switch (outcome)
        {
            case DecideOutcome.RunFinished:
                throw new RunFinishedException(runId, (await GetRunAsync(runId, cancellationToken))?.Status ?? RunStatus.Completed, "take a decision on an approval");
            case DecideOutcome.NotPending or DecideOutcome.AlreadyDecided:
                throw new ApprovalNotPendingException(runId, $"Approval '{approval.Name}' of run '{runId}' was decided or expired meanwhile; nothing was changed.");
            case DecideOutcome.DecidedHeld:
                _notifier.NotifyRunRequest(RunRequest.Signals, runId);
                break;
            default:
                _notifier.NotifyWork();
                break;
        }
        return approval;
    }

    /// <summary>
    /// Resolves the step a NeedsAttention run waits on: retry its body, complete it with a result, or fail it. The
    /// decision is journaled with who and when, and the run continues on any worker.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="resolution">The decision.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The name of the step resolved.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunFinishedException">The run has finished.</exception>
    /// <exception cref="RunStateException">The run does not need attention, or a resolution is already on its way.</exception>
    /// <exception cref="ArgumentException">The result is not JSON.</exception>
    public async Task<string> ResolveAsync(string runId, StepResolution resolution, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        ArgumentNullException.ThrowIfNull(resolution);
        if (resolution.ResultJson is { } json)
        {
            PayloadLimits.Check(json, _options.Limits.MaxResultBytes, nameof(PayloadLimits.MaxResultBytes), runId,
                static id => $"result to complete a step of run '{id}' with");
            EnsureJson(json, "The result to complete the step with", nameof(resolution));
        }
        var run = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        if (run.Status.IsTerminal())
        {
            throw new RunFinishedException(runId, run.Status, "be resolved");
        }
        var history = RunHistory.BuildFrom(run, await _store.GetJournalAsync(runId, cancellationToken), values: false);
        if (run.Status != RunStatus.NeedsAttention || history.Attention is not { } attention)
        {
            throw new RunStateException(runId, run.Status, "be resolved: no step of it waits for a decision");
        }
        if ((await _store.GetSignalsAsync(runId, cancellationToken)).Any(s => s.Name == attention.SignalName))
        {
            throw new RunStateException(runId, run.Status, $"be resolved again: a decision on step '{attention.Step}' was already sent and is being applied");
        }
        var action = resolution.Action switch
        {
            "retry" => StepResolutionAction.Retry,
            "complete" => StepResolutionAction.Complete,
            _ => StepResolutionAction.Fail,
        };
        var data = new StepResolutionData(action, resolution.ResultJson, resolution.Reason, resolution.By, _time.GetUtcNow());
        await SendAsync(new NewSignal { RunId = runId, Name = attention.SignalName, Payload = data.ToJson(), SentAt = data.At }, "be resolved", cancellationToken);
        return attention.Step;
    }

    /// <summary>
    /// Retries a Failed run: it continues from the step whose failure ended it, with a fresh attempt budget, and that step
    /// sees the earlier failures in <see cref="StepContext.PreviousFailures"/>; what the run did after that failure (a
    /// compensation, say) is set aside and runs again only if the code asks for it again. When a failed child run ended
    /// it, that child is retried the same way (and its own failed child, and so on) and the run waits for it again. A run
    /// that failed because its own code threw is replayed and its code run again (deploy the fix first). Who and why are
    /// journaled; the failure stays.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="by">Who retries it, for the record.</param>
    /// <param name="reason">Why, for the record.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the run is runnable again.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="RunStateException">The run is not Failed, or it is a child run (its parent was told of its failure
    /// and went on; retry the parent instead).</exception>
    public async Task RetryAsync(string runId, string? by = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        var run = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        if (run.ParentRunId is { } parent && run.Status == RunStatus.Failed)
        {
            throw new RunStateException(runId, run.Status,
                $"be retried on its own: it is a child of run '{parent}', which was told of its failure and went on; retry '{parent}' if it failed too");
        }
        await RetryFailedAsync(run, by, reason, cancellationToken);
    }

    /// <summary>Retries a Failed run, and first the failed child run that ended it, if any (which the run then waits for again).</summary>
    private async Task RetryFailedAsync(RunInfo run, string? by, string? reason, CancellationToken cancellationToken)
    {
        string? retriedChild = null;
        if (run is { Status: RunStatus.Failed, Error.Type: var type } && type == typeof(ChildRunFailedException).FullName &&
            await GetHistoryAsync(run.RunId, cancellationToken) is { } history)
        {
            // The child whose failure the run's code did not catch: the last failed wait for a child, as the read model tells it.
            var wait = history.Operations.LastOrDefault(o => o is { Kind: OperationKind.ChildRun, State: OperationState.Failed, ChildRunId: not null });
            if (wait?.ChildRunId is { } childId && await GetRunAsync(childId, cancellationToken) is { Status: RunStatus.Failed } child &&
                run.Error!.Message.Contains($"'{childId}'", StringComparison.Ordinal))
            {
                await RetryFailedAsync(child, by, $"retried with its parent run '{run.RunId}'{(reason is null ? "" : $": {reason}")}", cancellationToken);
                retriedChild = childId;
            }
        }
        var outcome = await _store.RetryAsync(run.RunId, new OperatorActionData(by, reason, retriedChild).ToJson(), _time.GetUtcNow(), cancellationToken);
        switch (outcome)
        {
            case RetryOutcome.NotFound:
                throw new RunNotFoundException(run.RunId);
            case RetryOutcome.NotFailed:
                throw new RunStateException(run.RunId, (await GetRunAsync(run.RunId, cancellationToken))?.Status ?? run.Status, "be retried: it is not Failed");
        }
        _notifier.NotifyRunChanged(run.RunId);
        _notifier.NotifyWork();
    }

    /// <summary>
    /// Forks a run at a position: a new run of the same workflow that reuses what the source recorded before that position
    /// (no step body runs again, no model is called again) and runs live from there, optionally with a person's corrected
    /// result for the step at the position. Both runs journal the fork, so each links to the other. The source is not
    /// changed otherwise (it may still be running).
    /// </summary>
    /// <param name="runId">The source run.</param>
    /// <param name="options">Where to fork, and what to change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new run.</returns>
    /// <exception cref="RunNotFoundException">No run has that id.</exception>
    /// <exception cref="ArgumentException">The position, the result or the input is not usable (the message says why).</exception>
    /// <exception cref="WorkflowAlreadyExistsException">A run with the fork's id exists.</exception>
    public async Task<StartResult> ForkAsync(string runId, ForkOptions options, CancellationToken cancellationToken = default)
    {
        RunIds.ValidateExisting(runId);
        ArgumentNullException.ThrowIfNull(options);
        var source = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        var journal = await _store.GetJournalAsync(runId, cancellationToken);
        var last = journal.Where(e => JournalKinds.OperationOf(e.Kind) is not (OperationKind.None or OperationKind.Cancellation or OperationKind.Version))
            .Select(e => e.Sequence).DefaultIfEmpty(0).Max();
        if (options.AtPosition < 1 || options.AtPosition > last + 1)
        {
            throw new ArgumentException($"Run '{runId}' has positions 1 to {last}: fork at one of them, or at {last + 1} to reuse all of it.", nameof(options));
        }
        var at = options.AtPosition;
        var forkId = options.RunId ?? $"{runId}-fork-{Guid.CreateVersion7().ToString("N")[^8..]}";
        RunIds.Validate(forkId);
        var input = options.InputJson ?? source.Input ?? "null";
        if (options.InputJson is { } given)
        {
            PayloadLimits.Check(given, _options.Limits.MaxRunInputBytes, nameof(PayloadLimits.MaxRunInputBytes), forkId, static id => $"input of fork '{id}'");
            EnsureJson(given, "The fork's input", nameof(options));
        }
        var now = _time.GetUtcNow();
        var record = new ForkData(runId, forkId, at, options.ReplaceResultJson is not null, options.By, options.Reason).ToJson();
        var prefix = new List<JournalEntry> { new() { Sequence = 0, Kind = JournalEntryKind.RunForked, Name = source.WorkflowName, RecordedAt = now, Payload = record } };
        prefix.AddRange(ForkPrefix(journal, at));
        if (options.ReplaceResultJson is { } result)
        {
            PayloadLimits.Check(result, _options.Limits.MaxResultBytes, nameof(PayloadLimits.MaxResultBytes), forkId, static id => $"replaced result of fork '{id}'");
            EnsureJson(result, "The replaced result", nameof(options));
            var step = journal.FirstOrDefault(e => e.Sequence == at && JournalKinds.OperationOf(e.Kind) != OperationKind.Version);
            if (step is null || JournalKinds.OperationOf(step.Kind) != OperationKind.Step)
            {
                throw new ArgumentException(step is null
                    ? $"Run '{runId}' recorded nothing at position {at}: there is no step result to replace there."
                    : $"Position {at} of run '{runId}' is {JournalKinds.Describe(step)}: only a step's result can be replaced.", nameof(options));
            }
            prefix.Add(new JournalEntry { Sequence = at, Kind = JournalEntryKind.StepCompleted, Name = step.Name, Attempt = 1, RecordedAt = now, Payload = result });
        }
        var outcome = await _store.ForkAsync(new NewRun
        {
            RunId = forkId, WorkflowName = source.WorkflowName, Input = input, Priority = source.Priority, CreatedAt = now,
            BuildId = source.BuildId, // the reused prefix was written by the source's code
            TraceParent = KeelTelemetry.CurrentTraceParent(),
        }, prefix, runId, new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunForked, Name = source.WorkflowName, RecordedAt = now, Payload = record },
            cancellationToken);
        switch (outcome)
        {
            case ForkOutcome.SourceNotFound:
                throw new RunNotFoundException(runId);
            case ForkOutcome.IdTaken:
                throw new WorkflowAlreadyExistsException(await GetRunAsync(forkId, cancellationToken) ?? source, source.WorkflowName);
        }
        _notifier.NotifyWork();
        var created = await GetRunAsync(forkId, cancellationToken) ?? throw new RunNotFoundException(forkId);
        return new StartResult(forkId, true, created);
    }

    /// <summary>
    /// What a fork at a position reuses of the source's journal: the operations before it with what they recorded, and the
    /// version decisions taken before it. A wait that was still open there (an approval asked, a child started) is left out:
    /// the fork asks again, with its own child. Run-level records and everything at or after the position are left out.
    /// </summary>
    private static IEnumerable<JournalEntry> ForkPrefix(IReadOnlyList<JournalEntry> journal, int at)
    {
        var ended = journal.Where(e => JournalKinds.RoleOf(e.Kind) == EntryRole.Outcome).Select(e => e.Sequence).ToHashSet();
        return journal.Where(e => e.Sequence < at && JournalKinds.RoleOf(e.Kind) switch
        {
            EntryRole.Version => true,
            EntryRole.Outcome or EntryRole.StepRecord or EntryRole.Rejection => e.Sequence >= 1,
            EntryRole.Marker => e.Sequence >= 1 && ended.Contains(e.Sequence),
            _ => false,
        }).Select(e => e with { Index = 0 });
    }

    /// <summary>
    /// Exports runs with their journals (<see cref="RunArchive"/>), to keep as golden runs and replay against changed code
    /// with no store (<c>Keel.Testing.WorkflowReplayer</c>).
    /// </summary>
    /// <param name="runIds">The runs.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The archive, in the order given.</returns>
    /// <exception cref="RunNotFoundException">No run has one of the ids.</exception>
    public async Task<RunArchive> ExportAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        var runs = new List<ArchivedRun>(runIds.Count);
        Dictionary<string, string>? messages = null;
        foreach (var runId in runIds)
        {
            RunIds.ValidateExisting(runId);
            var run = await _store.GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
            var journal = await _store.GetJournalAsync(runId, cancellationToken);
            if (journal.Any(e => RunMessages.RefersToMessages(e.Payload)))
            {
                // What the run's replay reads without a store: the messages its journal names by hash.
                messages ??= new(StringComparer.Ordinal);
                foreach (var (hash, json) in await _store.GetRunMessagesAsync(runId, cancellationToken))
                {
                    messages.TryAdd(hash, json);
                }
            }
            if (RunMessages.RefersToMessages(run.Input))
            {
                // And those its input names (a conversation an earlier run left), with what they name in turn.
                messages ??= new(StringComparer.Ordinal);
                await RunMessages.ReadNamedAsync(_store, run.Input, messages, cancellationToken);
            }
            runs.Add(new ArchivedRun
            {
                RunId = run.RunId, WorkflowName = run.WorkflowName, Status = run.Status, CreatedAt = run.CreatedAt,
                Input = run.Input is { } input ? EnsureJson(input, "The run's stored input", nameof(runIds)) : null, Journal = journal,
            });
        }
        return new RunArchive { Runs = runs, Messages = messages };
    }

    private static JsonElement EnsureJson(string json, string what, string parameter)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{what} is not valid JSON: {ex.Message}", parameter, ex);
        }
    }
}
