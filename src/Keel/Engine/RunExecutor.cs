using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Keel.Storage;
using Microsoft.Extensions.Logging;

namespace Keel.Engine;

/// <summary>
/// Drives one claimed run: performs what its <see cref="JournalMachine"/> decides. It replays the journal through the
/// workflow code, then executes live: operations propose outcomes and records on its queue, each batch is appended
/// through the one <see cref="FencedWriter"/> and then delivered, and the run is released, finished or dropped. It owns
/// the I/O (store, timers, telemetry) and the threads (the queue, the scheduler's pump); the machine decides.
/// One executor per run per worker.
/// </summary>
internal sealed class RunExecutor : IOperationHost, IDisposable
{
    private readonly WorkerServices _services;
    private readonly ClaimedRun _claimed;
    private readonly WorkflowDefinition _definition;
    // Multi-reader kind: it supports Count. Synchronous continuations let a step body's thread run the loop on
    // (PostFromBody); every other poster hands the loop back to the thread pool at once (see NextAsync).
    private readonly Channel<InboxItem> _inbox = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { AllowSynchronousContinuations = true });
    [ThreadStatic]
    private static bool t_loopMayContinueHere;
    // _abortCts stops the executor itself (shutdown, lost lease); _stepCts also fires when the run is cancelled,
    // for step bodies and retry waits.
    private readonly CancellationTokenSource _abortCts = new();
    private readonly CancellationTokenSource _stepCts;
    private readonly CancellationToken _stepToken;
    private readonly WorkflowScheduler _scheduler;
    private readonly ILogger _logger;
    private readonly FencedWriter _writer;
    private JournalMachine? _machine;
    private RunContext? _context;
    private Exception? _fault;
    // The signal inbox, touched only on the executor's loop: waiters in sequence order, signals read from the store
    // (loaded on first need, reloaded when told of new ones), and those taken but not yet journaled.
    private readonly List<ISignalWaiter> _signalWaiters = [];
    private readonly HashSet<long> _takenSignals = [];
    private List<StoredSignal>? _signals;
    private volatile bool _signalsStale;
    private int _bodiesRunning;
    private int _cancelPosted;
    private volatile bool _draining;
    private volatile bool _pausing;
    private bool _pumping;
    // The lease as this worker knows it: when it expires (claim, then each renewal), and how long before that this
    // worker stops starting work, in case its clock or its renewals are behind the store's view.
    private long _leaseExpiresTicks;
    private readonly long _leaseMarginTicks;
    private int _leaseLapsed;
    // 1 while the run is held alone as a suspect (ClaimedRun.Alone): until it makes progress, waits, or is released.
    private int _alone;
    private bool _pointRecorded;

    public RunExecutor(WorkerServices services, ClaimedRun claimed, WorkflowDefinition definition, DateTimeOffset leaseExpiresAt)
    {
        _services = services;
        _claimed = claimed;
        _definition = definition;
        _logger = services.Logger;
        _leaseExpiresTicks = leaseExpiresAt.UtcTicks;
        _leaseMarginTicks = Math.Min(services.Options.LeaseDuration.Ticks / 4, TimeSpan.FromSeconds(5).Ticks);
        _alone = claimed.Alone ? 1 : 0;
        _writer = new FencedWriter(services.Store, claimed.Lease, EndAlone, services.Stamp, services.TimeProvider.GetUtcNow());
        _stepCts = CancellationTokenSource.CreateLinkedTokenSource(_abortCts.Token);
        StepSlots = new SemaphoreSlim(services.Options.MaxParallelStepsPerRun, services.Options.MaxParallelStepsPerRun);
        _stepToken = _stepCts.Token;
        _scheduler = new WorkflowScheduler(() =>
        {
            // Work queued from outside a pump (a non-Keel await completing): wake the loop to run it.
            if (!_pumping)
            {
                Post(InboxItem.Wake);
            }
        });
    }

    public string RunId => _claimed.Run.RunId;

    public string WorkflowName => _claimed.Run.WorkflowName;

    public RunLease Lease => _claimed.Lease;

    public CancellationToken RunToken => _stepToken;

    /// <summary>Fires only when the executor stops (shutdown, lost lease): for cleanup steps that outlive cancellation.</summary>
    public CancellationToken AbortToken => _abortCts.Token;

    /// <summary>The run's limit on step bodies executing at once (<see cref="KeelOptions.MaxParallelStepsPerRun"/>).</summary>
    public SemaphoreSlim StepSlots { get; }

    /// <summary>True while no new work may start: the worker is shutting down, the run is being paused, or its lease
    /// may have lapsed.</summary>
    public bool IsDraining => _draining || _pausing;

    /// <summary>True once the executor gave up (or began to give up) its lease: released, paused, finished.</summary>
    public bool HasReleased => _writer.HasReleased;

    /// <summary>True while the run is held alone as a suspect: a death of this process now is charged to it.</summary>
    public bool IsAlone => Volatile.Read(ref _alone) == 1;

    /// <summary>The worker renewed the lease until <paramref name="expiresAt"/>.</summary>
    public void LeaseRenewed(DateTimeOffset expiresAt) => Interlocked.Exchange(ref _leaseExpiresTicks, expiresAt.UtcTicks);

    /// <summary>
    /// Whether new work (a step body, an operation) may start now. False once the lease may have lapsed: its expiry, less
    /// a safety margin, has passed on this worker's clock (renewals failed or fell behind, or the process was stopped,
    /// as by SIGSTOP or a long pause). Then another worker may own the run already, so this one starts nothing more:
    /// the run drains (bodies in flight are journaled if the lease still holds) and is released, or dropped when the
    /// fence says it is gone.
    /// </summary>
    public bool MayStartWork()
    {
        if (IsDraining)
        {
            return false;
        }
        if (_services.TimeProvider.GetUtcNow().UtcTicks < Interlocked.Read(ref _leaseExpiresTicks) - _leaseMarginTicks)
        {
            return true;
        }
        if (Interlocked.Exchange(ref _leaseLapsed, 1) == 0)
        {
            _logger.LeaseMayHaveLapsed(RunId, new DateTimeOffset(Interlocked.Read(ref _leaseExpiresTicks), TimeSpan.Zero));
            BeginDrain();
        }
        return false;
    }

    public TimeProvider TimeProvider => _services.TimeProvider;

    /// <summary>Now, in whole milliseconds: what the store keeps, so a live run sees the same UtcNow its replays will.</summary>
    public DateTimeOffset Now
    {
        get
        {
            var now = _services.TimeProvider.GetUtcNow();
            return now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerMillisecond));
        }
    }

    public JsonSerializerOptions SerializerOptions => _services.Options.SerializerOptions;

    /// <summary>Before a step body starts: waits while the worker runs another run alone as a suspect.</summary>
    public Task WaitForSuspectsAsync(CancellationToken cancellationToken) =>
        IsAlone || _services.AloneGate is not { } gate ? Task.CompletedTask : gate.WaitOpenAsync(cancellationToken);

    /// <summary>The largest values the run may store.</summary>
    public PayloadLimits Limits => _services.Options.Limits;

    /// <summary>The run's stored messages, made when first asked for: most runs never refer to any.</summary>
    public RunMessages Messages => Volatile.Read(ref _messages) ?? CreateMessages();

    private RunMessages? _messages;

    private RunMessages CreateMessages()
    {
        var messages = new RunMessages(_services.Store.GetMessagesAsync);
        return Interlocked.CompareExchange(ref _messages, messages, null) ?? messages;
    }

    /// <summary>The worker's hook called before each step body (<see cref="KeelOptions.StepStarting"/>).</summary>
    public Action<StepContext>? StepStarting => _services.Options.StepStarting;

    public void Post(InboxItem item) => _inbox.Writer.TryWrite(item);

    public void Wake() => Post(InboxItem.Wake);

    /// <summary>
    /// Posts a step body's outcome from the body's own thread, which has nothing left to do: if the loop waits, it
    /// continues on this thread (journal, deliver, start the next step) instead of waking another one.
    /// </summary>
    public void PostFromBody(InboxItem item)
    {
        t_loopMayContinueHere = true;
        try
        {
            _inbox.Writer.TryWrite(item);
        }
        finally
        {
            t_loopMayContinueHere = false;
        }
    }

    /// <summary>The next inbox item. A wait that ends on another poster's thread moves to the thread pool first.</summary>
    private async ValueTask<InboxItem> NextAsync(CancellationToken token)
    {
        var read = _inbox.Reader.ReadAsync(token);
        if (read.IsCompletedSuccessfully)
        {
            return read.Result;
        }
        try
        {
            var item = await read;
            if (!TakeContinueHere())
            {
                await ThreadPoolHop.Instance;
            }
            return item;
        }
        catch (OperationCanceledException)
        {
            await ThreadPoolHop.Instance; // not on the canceller's thread
            throw;
        }
    }

    private static bool TakeContinueHere()
    {
        var here = t_loopMayContinueHere;
        t_loopMayContinueHere = false; // whatever the loop posts to other runs from here is not a body's outcome
        return here;
    }

    public async Task<CreateRunResult> CreateChildAsync(NewRun child, CancellationToken cancellationToken)
    {
        // Not a journal write: the child is created idempotently by its id (derived from this run's id and position), so
        // a stale holder creating it again changes nothing; its ChildStarted entry goes through the writer.
        var created = await _services.Store.CreateRunAsync(child, cancellationToken);
        _services.Notifier.NotifyWork();
        return created;
    }

    /// <summary>Asks a child run to cancel (the parent was cancelled, or stopped waiting for it); best effort here,
    /// repeated on the parent's replay.</summary>
    public void CancelChild(string childRunId, string why) => _ = CancelChildAsync(childRunId, why);

    private async Task CancelChildAsync(string childRunId, string why)
    {
        try
        {
            var outcome = await _services.Store.RequestCancelAsync(childRunId, $"its parent run '{RunId}' {why}", Now, CancellationToken.None);
            if (outcome == CancelOutcome.Requested)
            {
                _services.Notifier.NotifyRunRequest(RunRequest.Cancel, childRunId);
            }
        }
        catch (StorageException ex)
        {
            _logger.WorkerLoopError(ex, $"cancelling child run {childRunId}");
        }
    }

    /// <summary>Asks the run to cancel (once); the cancellation is journaled and delivered in order.</summary>
    public void RequestCancel()
    {
        if (Interlocked.Exchange(ref _cancelPosted, 1) == 0)
        {
            Post(new InboxItem(InboxItemKind.Cancel));
        }
    }

    /// <summary>Signals arrived in the run's inbox: look again if something waits for one.</summary>
    public void SignalsArrived()
    {
        _signalsStale = true;
        Post(InboxItem.CheckSignals);
    }

    /// <summary>Registers a wait for a signal (from any thread: the loop adds it) and looks for a match.</summary>
    public void AddSignalWaiter(ISignalWaiter waiter) => Post(new InboxItem(InboxItemKind.Signals, Waiter: waiter));

    /// <summary>Stops starting new work; the run is released once its in-flight step bodies are journaled.</summary>
    public void BeginDrain()
    {
        _draining = true;
        Post(InboxItem.Wake);
    }

    /// <summary>Pauses the run before its next operation: in-flight step bodies finish and are journaled first.</summary>
    public void RequestPause()
    {
        _pausing = true;
        Post(InboxItem.Wake);
    }

    /// <summary>Drops the run at once: cancels step bodies and stops without writing (the lease is gone, or shutdown is
    /// hard). Safe to call at any time, also after the executor ended.</summary>
    public void Abort()
    {
        try
        {
            _abortCts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // ended meanwhile: nothing left to stop
        }
    }

    public void Fault(Exception exception)
    {
        _fault ??= exception;
        Post(InboxItem.Wake);
    }

    public void BodyStarted() => Interlocked.Increment(ref _bodiesRunning);

    public void BodyFinished()
    {
        // The last body to finish wakes the loop: it may have skipped a release (or a drain) while the body still counted.
        if (Interlocked.Decrement(ref _bodiesRunning) == 0 || _draining)
        {
            Post(InboxItem.Wake);
        }
    }

    public async Task DelayUntilAsync(DateTimeOffset due, CancellationToken cancellationToken)
    {
        // Timers run on a monotonic clock and may wake a hair before the wall clock reaches the due time: re-check.
        for (var delay = due - Now; delay > TimeSpan.Zero; delay = due - Now)
        {
            await Task.Delay(delay, TimeProvider, cancellationToken);
        }
    }

    public async Task RecordAsync(JournalEntry entry, CancellationToken cancellationToken, long? consumedSignal = null)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new InboxItem(InboxItemKind.Record, Entry: entry, ConsumedSignal: consumedSignal, Committed: committed));
        // The loop acknowledges after the batch commits; if the executor stops first, the abort token ends the wait.
        await committed.Task.WaitAsync(cancellationToken).WaitAsync(_abortCts.Token);
    }

    private Task AppendAsync(List<JournalEntry> entries, RunUpdate? change, CancellationToken cancellationToken)
    {
        // Statuses the code set ride writes that journal entries or let go of the run (never a write of their own).
        if ((entries.Count > 0 || change?.Transition is { ReleaseLease: true }) && _machine?.TakePendingRecords() is { Count: > 0 } statuses)
        {
            entries.AddRange(statuses);
        }
        if (KeelTelemetry.StepFailures.Enabled || KeelTelemetry.RunsStopped.Enabled || KeelTelemetry.ApprovalsRequested.Enabled)
        {
            CountForMetrics(entries);
        }
        return _messages?.TakeStaged() is { } staged
            ? AppendWithMessagesAsync(entries, (change ?? new RunUpdate { At = Now }) with { Messages = staged }, staged, cancellationToken)
            : _writer.AppendAsync(entries, change, cancellationToken);
    }

    /// <summary>What the entries about to be journaled tell the metrics: a step failed for good, one waits for a person,
    /// an approval was asked for. Each is journaled once (a replay journals nothing again), so each is counted once.</summary>
    private void CountForMetrics(List<JournalEntry> entries)
    {
        foreach (var entry in entries)
        {
            switch (entry.Kind)
            {
                case JournalEntryKind.StepFailed:
                    KeelTelemetry.StepFailures.Add(1, new("keel.workflow", _definition.Name), new("keel.step", KeelTelemetry.StepTag(entry.Name)));
                    break;
                case JournalEntryKind.StepNeedsAttention:
                    KeelTelemetry.RunsStopped.Add(1, new("keel.workflow", _definition.Name), new("keel.status", nameof(RunStatus.NeedsAttention)));
                    break;
                case JournalEntryKind.ApprovalRequested:
                    KeelTelemetry.ApprovalsRequested.Add(1, new KeyValuePair<string, object?>("keel.workflow", _definition.Name));
                    break;
            }
        }
    }

    /// <summary>Messages the code and its step bodies staged go with the append (one transaction), or are staged again.</summary>
    private async Task AppendWithMessagesAsync(List<JournalEntry> entries, RunUpdate change, IReadOnlyList<StoredMessage> staged, CancellationToken cancellationToken)
    {
        try
        {
            await _writer.AppendAsync(entries, change, cancellationToken);
        }
        catch
        {
            _messages!.Restage(staged);
            throw;
        }
    }

    private void EndAlone()
    {
        if (Interlocked.Exchange(ref _alone, 0) == 1)
        {
            _services.AloneEnded?.Invoke(this);
        }
    }

    public void OnStepAttemptEnded(string step, StepEffect effect, string outcome, TimeSpan elapsed)
    {
        if (KeelTelemetry.StepDuration.Enabled) // the tags cost a little on every attempt: only when someone listens
        {
            KeelTelemetry.StepDuration.Record(elapsed.TotalSeconds, new("keel.workflow", _definition.Name), new("keel.step", KeelTelemetry.StepTag(step)),
                new("keel.step.effect", effect.ToString()), new("keel.step.outcome", outcome));
        }
    }

    public void OnStepRetrying(string step, int attempt, ErrorInfo error, DateTimeOffset retryAt)
    {
        KeelTelemetry.StepRetries.Add(1, new("keel.workflow", _definition.Name), new("keel.step", KeelTelemetry.StepTag(step)));
        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.StepRetrying(RunId, step, attempt, error.ToString(), retryAt);
        }
    }

    public Activity? StartStepActivity(string step, int sequence, int attempt)
    {
        if (!KeelTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }
        var activity = KeelTelemetry.ActivitySource.StartActivity($"step {step}");
        activity?.SetTag("keel.workflow.name", _definition.Name);
        activity?.SetTag("keel.workflow.id", RunId);
        activity?.SetTag("keel.step.name", step);
        activity?.SetTag("keel.step.seq", sequence);
        activity?.SetTag("keel.step.attempt", attempt);
        return activity;
    }

    /// <summary>Executes the run until it finishes, waits, is drained, or is lost. Never throws.</summary>
    public async Task RunAsync(CancellationToken hardStop)
    {
        // Each time a worker takes the run up, its span continues the trace the run's start belonged to.
        using var activity = KeelTelemetry.ActivitySource.HasListeners()
            ? KeelTelemetry.ActivitySource.StartActivity($"workflow {_definition.Name}", ActivityKind.Internal, KeelTelemetry.ParentOf(_claimed.Run)) : null;
        activity?.SetTag("keel.workflow.name", _definition.Name);
        activity?.SetTag("keel.workflow.id", RunId);
        using var hardStopRegistration = hardStop.Register(Abort);
        try
        {
            await ExecuteAsync();
        }
        catch (NondeterminismException ex)
        {
            _logger.Nondeterminism(ex.Message);
            await TryFinishAsync(JournalEntryKind.RunBlocked, RunStatus.Blocked, ErrorInfo.FromException(ex) with { StackTrace = null }, ex.Message,
                new BlockData(BlockData.Nondeterminism, _services.Options.BuildId).ToJson());
        }
        catch (LeaseLostException)
        {
            _logger.LeaseLost(RunId);
        }
        catch (OperationCanceledException) when (_abortCts.IsCancellationRequested)
        {
            // Shutdown or lost lease: release what we hold so another worker can continue at once.
            await TryReleaseAsync();
        }
        catch (Exception ex) when (RefusedData(ex) is { } refused)
        {
            // The store will never accept what the run produced: retrying (release and claim, again and again) cannot help.
            _logger.RunFailed(RunId, _definition.Name, refused.Message);
            await TryFinishAsync(JournalEntryKind.RunFailed, RunStatus.Failed, ErrorInfo.FromException(refused) with { StackTrace = null, IsTerminal = true },
                $"The store refused to record an outcome of this run: {refused.Message}");
        }
        catch (Exception ex)
        {
            await RecoveryFailedAsync(ex);
        }
        finally
        {
            EndAlone();
            await _abortCts.CancelAsync();
        }
    }

    public void Dispose()
    {
        StepSlots.Dispose();
        _stepCts.Dispose();
        _abortCts.Dispose();
        _context?.Dispose();
    }

    private async Task ExecuteAsync()
    {
        var run = _claimed.Run;
        var token = _abortCts.Token;
        if (run.RecoveryAttempts >= _services.Options.MaxRecoveryAttempts)
        {
            var point = RecoveryPointData.Parse(_claimed.RecoveryPoint);
            var error = point is not null || run.Error is null
                ? new ErrorInfo("Keel.ProcessCrashed", "The worker process stopped each time this run was resumed alone" +
                    (point is null ? ", before it made progress." : $", the last time while {point.Describe()}."))
                : run.Error;
            await QuarantineAsync(run.RecoveryAttempts, error, point is null && run.Error is not null ? ReplayFailure(run.Error) : error.Message);
            return;
        }
        if (IsAlone)
        {
            // Where a death of this process would be charged: replaying, until the first live operation says more.
            await AppendAsync([], RunUpdate.RecordRecoveryPoint(RecoveryPointData.Replay(_claimed.JournalLength).ToJson(), Now), token);
        }

        // A fresh run has nothing to replay: no need to read its (empty) journal.
        var journal = _claimed.JournalLength == 0 ? [] : await _services.Store.GetJournalAsync(RunId, token);
        var machine = _machine = new JournalMachine(RunId, run.CreatedAt, journal);
        _logger.RunClaimed(RunId, _definition.Name, Lease.Epoch, journal.Count);
        if (machine.RefersToStoredMessages)
        {
            // Before the code replays: reading them there would be I/O inside workflow code.
            Messages.Add(await _services.Store.GetRunMessagesAsync(RunId, token));
        }
        if (RunMessages.RefersToMessages(run.Input))
        {
            // An input that names stored messages (a conversation an earlier run left): read them, and what they name, before
            // the code runs; they are linked to this run before its next append, so they stay while it does.
            var loaded = new Dictionary<string, string>(StringComparer.Ordinal);
            await RunMessages.ReadNamedAsync(_services.Store, run.Input, loaded, token);
            Messages.Stage(loaded.Select(m => new StoredMessage(m.Key, m.Value)), link: true);
        }

        object? input;
        try
        {
            input = _definition.DeserializeInput(run.Input ?? "null", SerializerOptions);
        }
        catch (InvalidWorkflowInputException ex)
        {
            await FinishAsync(JournalEntryKind.RunFailed, RunStatus.Failed, ErrorInfo.FromException(ex) with { StackTrace = null }, null, null);
            return;
        }

        var context = _context = new RunContext(this, machine, run, _services.Options.DefaultRetryPolicy, _services.WorkflowLogger);
        var workflowTask = _scheduler.StartAsync(() => context.EnterAsync(() => _definition.InvokeAsync(_services.Services, context, input)));
        Pump();

        // Replay: the machine hands out recorded outcomes in their recorded order, checked against what the code waits for.
        for (var replaying = true; replaying;)
        {
            var step = machine.NextReplay(workflowTask.IsCompleted, workflowTask.IsFaulted ? workflowTask.Exception!.InnerException : null);
            switch (step.Action)
            {
                case ReplayAction.Done:
                    replaying = false;
                    break;
                case ReplayAction.Cancel:
                    _cancelPosted = 1;
                    DeliverCancel(step.Entry!);
                    break;
                case ReplayAction.Deliver:
                    Deliver(step.Operation!, step.Entry!);
                    break;
                case ReplayAction.Fault:
                    throw new WorkflowReplayException(RunId, step.Fault!);
                default:
                    throw step.Nondeterminism!;
            }
        }
        machine.EndReplay();
        if (run.CancelRequested && !machine.HasCancel)
        {
            RequestCancel();
        }
        else if (run.PauseRequested)
        {
            RequestPause(); // asked while no worker ran it, or its worker died before pausing
        }

        // Live: start what the code asked for; each batch of outcomes is journaled, then delivered.
        await StartNewOperationsAsync(token);
        var batch = new List<InboxItem>();
        while (!workflowTask.IsCompleted)
        {
            if (_fault is not null)
            {
                throw new WorkflowReplayException(RunId, _fault);
            }
            // Bodies first, the inbox after: a body posts its outcome before it stops counting as running.
            if (Volatile.Read(ref _bodiesRunning) == 0 && _inbox.Reader.Count == 0)
            {
                if (_draining)
                {
                    await TryReleaseAsync();
                    return;
                }
                if (_pausing)
                {
                    // Paused runs are not claimable (no due time) until resumed; the lease goes with the pause.
                    await AppendAsync([], RunUpdate.Pause(Now), token);
                    _services.Notifier.NotifyRunChanged(RunId);
                    return;
                }
                // What waits first, the inbox again last: an operation posts what it has (a waiter, an entry) before
                // it counts as waiting, so nothing it posted can be left behind by the release.
                if (machine.NextDueIfAllWaiting() is { } due && _inbox.Reader.Count == 0)
                {
                    if (due - Now >= _services.Options.ReleaseWaitsLongerThan)
                    {
                        // Nothing to do until then: hold no memory; any worker resumes the run when it is due.
                        await AppendAsync([], machine.Release(due, SignalWaits(), Now), CancellationToken.None);
                        _services.Notifier.NotifyRunChanged(RunId);
                        return;
                    }
                    if (IsAlone && due > Now)
                    {
                        // A suspect that only waits (for a time still to come: a retry already due is about to run its
                        // body) runs nothing that could bring the process down: it is cleared.
                        await AppendAsync([], RunUpdate.MarkRecovered(Now), token);
                    }
                }
            }
            batch.Clear();
            batch.Add(await NextAsync(token));
            while (_inbox.Reader.TryRead(out var more))
            {
                batch.Add(more);
            }
            await ProcessBatchAsync(batch, machine, token);
        }

        await CompleteAsync(workflowTask);
    }

    /// <summary>Journals a batch as the machine plans it (one append), acknowledges the records in it, then delivers
    /// it item by item, starting what the code asks for after each.</summary>
    private async Task ProcessBatchAsync(List<InboxItem> batch, JournalMachine machine, CancellationToken token)
    {
        var checkSignals = false;
        foreach (var item in batch)
        {
            if (item.Kind == InboxItemKind.Signals)
            {
                if (item.Waiter is { } waiter)
                {
                    _signalWaiters.Add(waiter);
                }
                checkSignals = true;
            }
        }
        var plan = machine.Plan(batch, Now);
        if (plan.WritesAnything)
        {
            try
            {
                await AppendAsync(plan.Entries, plan.Change, token);
            }
            catch (Exception ex)
            {
                foreach (var item in batch)
                {
                    item.Committed?.TrySetException(ex);
                }
                throw;
            }
        }
        foreach (var item in batch)
        {
            item.Committed?.TrySetResult();
        }
        foreach (var delivery in plan.Deliveries)
        {
            switch (delivery.Action)
            {
                case DeliveryAction.Cancel:
                    await _stepCts.CancelAsync(); // step bodies in flight see their token fire; their outcomes are not recorded
                    DeliverCancel(delivery.Entry!);
                    break;
                case DeliveryAction.Deliver when !delivery.Operation!.IsDone:
                    Deliver(delivery.Operation, delivery.Entry!);
                    break;
                default:
                    Pump();
                    break;
            }
            await StartNewOperationsAsync(token);
        }
        if (checkSignals)
        {
            await MatchSignalsAsync(token);
        }
    }

    /// <summary>The one delivery path, for replayed and live outcomes alike: the machine takes the entry, then the
    /// operation completes the code's task from it, and the code runs until it waits again.</summary>
    private void Deliver(IMachineOperation operation, JournalEntry entry) => Pump(() =>
    {
        _machine!.Delivered(operation, entry);
        operation.Deliver(entry);
    });

    private void DeliverCancel(JournalEntry entry) => Pump(() => _context!.DeliverCancel(entry.RecordedAt));

    /// <summary>The signal waits that go with a release: one already in the inbox, or sent later, makes the run due.</summary>
    private List<SignalWait> SignalWaits() =>
        [.. _signalWaiters.Where(w => !w.IsResolved).Select(w => new SignalWait(w.InboxName, w.PayloadKinds()))];

    /// <summary>Gives each waiting operation, in sequence order, the oldest unconsumed signal of its name.</summary>
    private async Task MatchSignalsAsync(CancellationToken token)
    {
        _signalWaiters.RemoveAll(w => w.IsResolved);
        if (_signalWaiters.Count == 0)
        {
            return;
        }
        if (_signals is null || _signalsStale)
        {
            _signalsStale = false;
            var stored = await _services.Store.GetSignalsAsync(RunId, token);
            _signals = [.. stored.Where(s => !_takenSignals.Contains(s.Id))];
        }
        foreach (var match in JournalMachine.MatchSignals(_signalWaiters, _signals, Now))
        {
            _takenSignals.Add(match.Signal.Id);
            if (match.Rejected is { } rejected)
            {
                // Set aside, journaled and consumed in one transaction: the run goes on waiting for one that fits.
                match.Waiter.Rejected(rejected);
                Post(new InboxItem(InboxItemKind.Record, Entry: rejected, ConsumedSignal: match.Signal.Id));
            }
            else
            {
                match.Waiter.Received(match.Signal);
            }
        }
        _signalWaiters.RemoveAll(w => w.IsResolved);
    }

    private async Task CompleteAsync(Task<object?> workflowTask)
    {
        if (workflowTask.IsCompletedSuccessfully)
        {
            var result = JsonSerializer.Serialize(workflowTask.Result, KeelJson.TypeInfo(SerializerOptions, _definition.ResultType));
            try
            {
                PayloadLimits.Check(result, Limits.MaxResultBytes, nameof(PayloadLimits.MaxResultBytes), RunId, static id => $"result of run '{id}'");
            }
            catch (PayloadTooLargeException ex)
            {
                await FinishAsync(JournalEntryKind.RunFailed, RunStatus.Failed, ErrorInfo.FromException(ex) with { StackTrace = null, IsTerminal = true }, null, null);
                _logger.RunFailed(RunId, _definition.Name, ex.Message);
                return;
            }
            await FinishAsync(JournalEntryKind.RunCompleted, RunStatus.Completed, null, null, result);
            _logger.RunCompleted(RunId, _definition.Name);
            return;
        }
        var exception = workflowTask.Exception?.InnerException;
        if (exception is ContinueAsNewException next)
        {
            await ContinueAsNewAsync(next.InputJson);
            return;
        }
        if (workflowTask.IsCanceled || exception is OperationCanceledException && _machine!.IsCancelled)
        {
            await FinishAsync(JournalEntryKind.RunCancelled, RunStatus.Cancelled, null, null, null); // keeps the reason the request stored
            _logger.RunCancelled(RunId, _definition.Name);
            return;
        }
        var error = Limits.Cap(ErrorInfo.FromException(exception!));
        await FinishAsync(JournalEntryKind.RunFailed, RunStatus.Failed, error, null, null);
        _logger.RunFailed(RunId, _definition.Name, error.ToString());
    }

    /// <summary>Delivers (optionally) and runs the workflow until it waits again. Continuations queued meanwhile are
    /// run here, so they need no wake-up.</summary>
    private void Pump(Action? deliver = null)
    {
        _pumping = true;
        try
        {
            _context!.RunCode(_scheduler, deliver); // the code only runs once its context exists
        }
        finally
        {
            _pumping = false;
        }
        if (_machine?.Nondeterminism is { } nondeterminism)
        {
            throw nondeterminism;
        }
    }

    /// <summary>Starts the operations the workflow asked for since the last call, if the run may start work; a suspect
    /// held alone first records what it starts, so that a death of this process says where it happened.</summary>
    private ValueTask StartNewOperationsAsync(CancellationToken token)
    {
        if (_machine is null || _machine.IsReplaying || !_machine.HasUnstarted || !MayStartWork())
        {
            return ValueTask.CompletedTask;
        }
        if (IsAlone && !_pointRecorded)
        {
            return RecordPointThenStartAsync(token);
        }
        StartUnstarted();
        return ValueTask.CompletedTask;
    }

    private async ValueTask RecordPointThenStartAsync(CancellationToken token)
    {
        _pointRecorded = true;
        if (_machine!.UnstartedRecoveryPoint() is { } point)
        {
            await AppendAsync([], RunUpdate.RecordRecoveryPoint(point.ToJson(), Now), token);
        }
        StartUnstarted();
    }

    private void StartUnstarted()
    {
        foreach (var operation in _machine!.TakeUnstarted())
        {
            if (!operation.IsDone)
            {
                ((Operation)operation).Start();
            }
        }
    }

    private async Task FinishAsync(JournalEntryKind kind, RunStatus status, ErrorInfo? error, string? reason, string? result, string? record = null)
    {
        var now = Now;
        var (entry, change) = JournalMachine.Finish(_claimed.Run, kind, status, error, reason, result, now, record);
        await AppendAsync([entry], change, CancellationToken.None);
        if (status.IsTerminal())
        {
            KeelTelemetry.WorkflowDuration.Record((now - _claimed.Run.CreatedAt).TotalSeconds,
                new("keel.workflow", _definition.Name), new("keel.status", status.ToString()));
            KeelTelemetry.RunsEnded.Add(1, new("keel.workflow", _definition.Name), new("keel.status", status.ToString()));
        }
        else
        {
            KeelTelemetry.RunsStopped.Add(1, new("keel.workflow", _definition.Name), new("keel.status", status.ToString())); // Blocked
        }
        _services.Notifier.NotifyRunChanged(RunId);
        if (change.Transition?.NotifyParent is { } parent)
        {
            _services.Notifier.NotifyRunRequest(RunRequest.Signals, parent.ParentRunId); // a parent this worker holds looks at once
        }
    }

    /// <summary>Completes this run and creates its successor (same workflow, new input, empty journal) in one transaction.</summary>
    private async Task ContinueAsNewAsync(string inputJson)
    {
        var (entry, change) = JournalMachine.ContinueAsNew(_claimed.Run, await SuccessorIdAsync(), inputJson, Now);
        await AppendAsync([entry], change, CancellationToken.None);
        _services.Notifier.NotifyWork();
        _services.Notifier.NotifyRunChanged(RunId);
    }

    /// <summary>
    /// "order~2" after "order", "order~3" after "order~2": readable chains. An id some other run already has is skipped
    /// (the store's create is idempotent, so taking it would link this chain to an unrelated run). Nothing needs the id
    /// to be the same after a crash: the completion and the successor commit together, or neither does.
    /// </summary>
    private async Task<string> SuccessorIdAsync()
    {
        var match = System.Text.RegularExpressions.Regex.Match(RunId, @"^(.*)~(\d+)$");
        var stem = match.Success ? match.Groups[1].Value : RunId;
        var number = match.Success ? int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 1 : 2;
        while (await _services.Store.GetRunAsync($"{stem}~{number}", _abortCts.Token) is not null)
        {
            number++;
        }
        return $"{stem}~{number}";
    }

    private async Task TryFinishAsync(JournalEntryKind kind, RunStatus status, ErrorInfo error, string reason, string? record = null)
    {
        try
        {
            await FinishAsync(kind, status, error, reason, null, record);
        }
        catch (Exception ex) when (ex is LeaseLostException or StorageException)
        {
            _logger.LeaseLost(RunId);
        }
    }

    private Task QuarantineAsync(int attempts, ErrorInfo error, string cause)
    {
        _logger.Quarantined(RunId, attempts, error.ToString());
        return TryFinishAsync(JournalEntryKind.RunBlocked, RunStatus.Blocked, error,
            $"Quarantined after {attempts} recoveries without progress: {cause} " +
            "Fix the cause and deploy, then unblock the run (it continues where it stopped, with a fresh recovery budget), or cancel it.",
            new BlockData(BlockData.Quarantine, _services.Options.BuildId).ToJson());
    }

    private static StorageException? RefusedData(Exception exception) => exception switch
    {
        StorageException { RejectsData: true } refused => refused,
        WorkflowReplayException { InnerException: StorageException { RejectsData: true } refused } => refused,
        _ => null,
    };

    private static string ReplayFailure(ErrorInfo error) => $"its code threw while its journal was replayed ({error.Type}: {error.Message}).";

    /// <summary>The run's code threw while its journal was replayed: charged to the run (no process died), which is
    /// released to be tried again after a backoff, or quarantined once it has failed too often.</summary>
    private async Task RecoveryFailedAsync(Exception exception)
    {
        var cause = exception is WorkflowReplayException { InnerException: { } inner } ? inner : exception;
        var error = ErrorInfo.FromException(cause);
        var attempt = _claimed.Run.RecoveryAttempts + 1;
        var max = _services.Options.MaxRecoveryAttempts;
        if (attempt >= max)
        {
            await QuarantineAsync(attempt, error, ReplayFailure(error));
            return;
        }
        _logger.RecoveryFailed(cause, RunId, attempt, max);
        var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, attempt - 1)));
        try
        {
            await AppendAsync([], RunUpdate.FailRecovery(error, Now + backoff, Now), CancellationToken.None);
        }
        catch (Exception ex) when (ex is LeaseLostException or StorageException)
        {
            // The lease expires on its own; another worker continues then.
        }
    }

    /// <summary>Hands the run back (shutdown, a lapsed lease): any worker may claim it at once. Best effort.</summary>
    private async Task TryReleaseAsync()
    {
        try
        {
            await AppendAsync([], RunUpdate.HandBack(Now), CancellationToken.None);
        }
        catch (Exception ex) when (ex is LeaseLostException or StorageException)
        {
            // Taken over already, or the store is away: the lease expires on its own; another worker continues then.
        }
    }
}

/// <summary>The workflow code threw while its journal was being replayed: a recovery failure, not the run's outcome.</summary>
internal sealed class WorkflowReplayException(string runId, Exception inner)
    : Exception($"Run '{runId}' could not be resumed: {inner.Message}", inner);
