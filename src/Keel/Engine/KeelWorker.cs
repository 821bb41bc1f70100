using System.Collections.Concurrent;
using Keel.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Keel.Engine;

/// <summary>
/// Claims runnable runs from the store and executes them; renews their leases; on shutdown stops claiming, lets
/// in-flight step bodies finish for the drain time, and releases every lease it holds.
/// </summary>
internal sealed class KeelWorker : IHostedService, IAsyncDisposable, IRunRequestSink, ILocalStarter
{
    private const int ClaimBatch = 100;
    private readonly IWorkflowStore _store;
    private readonly WorkflowRegistry _registry;
    private readonly KeelOptions _options;
    private readonly IReadOnlyCollection<string>? _servesBuilds;
    private readonly RunNotifier _notifier;
    private readonly TimeProvider _time;

    // Loop pacing (polls, renewals, drain) runs on real time; durable times (due, lease expiry) come from _time.
    // A test that freezes or skips the injected clock then still gets a worker that polls and stops.
    private static readonly TimeProvider Pacing = TimeProvider.System;
    private readonly ILogger _logger;
    private readonly WorkerServices _services;
    private readonly ConcurrentDictionary<string, (RunExecutor Executor, Task Task)> _active = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _hardStop = new();
    private TaskCompletionSource _slotFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Eager starts: slots set aside for runs being created held by this worker, and whether new ones are taken (from
    // start until stop; the gate orders a hand-over against the stop's snapshot of the runs to drain).
    private readonly Lock _startGate = new();
    private int _reserved;
    private bool _accepting;
    private Task? _claimLoop;
    private Task? _renewLoop;
    private int _stopped;
    // The executor of the suspect run held alone here, if any (at most one per process, so a death of the process then
    // is, as far as can be told, its own).
    private RunExecutor? _alone;
    private DateTimeOffset _startedAt;
    private DateTimeOffset _warmSince = DateTimeOffset.MaxValue;

    /// <summary>How often a running worker tells the registry it is alive.</summary>
    private static readonly TimeSpan WorkerHeartbeat = WorkerInfo.Heartbeat;

    public KeelWorker(IWorkflowStore store, WorkflowRegistry registry, IOptions<KeelOptions> options, RunNotifier notifier,
        IServiceProvider services, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        _store = store;
        _registry = registry;
        _options = options.Value;
        _servesBuilds = _options.ClaimableBuilds();
        _notifier = notifier;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger<KeelWorker>();
        Owner = _options.WorkerId ?? OwnerId.Create();
        var gate = new AloneGate(Pacing);
        _services = new WorkerServices(store, _options, timeProvider, notifier, services,
            loggerFactory.CreateLogger("Keel.Engine.RunExecutor"), loggerFactory.CreateLogger("Keel.Workflow"))
        {
            AloneEnded = executor =>
            {
                if (Interlocked.CompareExchange(ref _alone, null, executor) == executor)
                {
                    gate.Open();
                    _notifier.NotifyWork(); // the next suspect may be claimed now
                }
            },
            AloneGate = gate,
            Stamp = new WorkerStamp(Owner, Environment.MachineName, Environment.ProcessId, _options.BuildId),
        };
        notifier.Worker = this; // a pause or cancel from this process reaches the run before its next operation
    }

    /// <inheritdoc />
    public bool TryDeliver(RunRequest request, string runId)
    {
        if (!_active.TryGetValue(runId, out var entry))
        {
            return false;
        }
        switch (request)
        {
            case RunRequest.Cancel:
                entry.Executor.RequestCancel();
                break;
            case RunRequest.Pause:
                entry.Executor.RequestPause();
                break;
            default:
                entry.Executor.SignalsArrived();
                break;
        }
        return true;
    }

    /// <summary>The owner id under which this worker holds leases.</summary>
    public string Owner { get; }

    public bool Holds(string runId) => _active.ContainsKey(runId);

    /// <summary>The build of the code this worker runs (<see cref="KeelOptions.BuildId"/>).</summary>
    public string? BuildId => _options.BuildId;

    public int ActiveRuns => _active.Count;

    /// <inheritdoc />
    public EagerStart? TryReserveStart(string workflowName)
    {
        if (!_options.EagerStart || !_registry.TryGet(workflowName, out _) || _options.ConcurrencyLimits.ContainsKey(workflowName))
        {
            return null;
        }
        lock (_startGate)
        {
            if (!_accepting || _active.Count + _reserved >= _options.MaxConcurrentRuns)
            {
                return null;
            }
            _reserved++;
        }
        return new EagerStart(this, _time.GetUtcNow() + _options.LeaseDuration);
    }

    /// <summary>Gives back a slot <see cref="TryReserveStart"/> set aside.</summary>
    internal void ReleaseReservation()
    {
        lock (_startGate)
        {
            _reserved--;
        }
    }

    /// <summary>Executes a run created held by this worker in a slot <see cref="TryReserveStart"/> set aside.</summary>
    internal async Task StartReservedAsync(ClaimedRun run, DateTimeOffset leaseExpiresAt)
    {
        lock (_startGate)
        {
            _reserved--;
            if (_accepting)
            {
                StartExecutor(run, leaseExpiresAt);
                return;
            }
        }
        // The worker began to stop while the run was created: hand it back to the store at once, for any worker to
        // claim, rather than hold it until its lease expires.
        try
        {
            await new FencedWriter(_store, run.Lease, static () => { }).AppendAsync([], RunUpdate.HandBack(_time.GetUtcNow()), CancellationToken.None);
        }
        catch (LeaseLostException)
        {
            // taken over already: nothing to hand back
        }
        catch (Exception ex)
        {
            _logger.WorkerLoopError(ex, "eager start hand-back");
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before any run is touched: a worker that cannot read its workflows' inputs or write their results (a native AOT
        // app without their JSON contracts) refuses to start instead of failing every run it resumes.
        _registry.CheckContracts(_options.SerializerOptions);
        await _store.InitializeAsync(cancellationToken);
        await ExpireDeadOwnersAsync(cancellationToken);
        _startedAt = _time.GetUtcNow();
        await RecordSelfAsync(stopped: false, cancellationToken); // before the first claim: clients may now start its workflows
        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.WorkerStarted(Owner, _registry.Names.Count, string.Join(", ", _registry.Names));
        }
        if (_options.BuildId is { } build)
        {
            // Before the first claim, so that the runs it unblocks are claimable at once; a store that is away is no reason
            // not to start: the next start tries again.
            try
            {
                await BuildRetry.RunAsync(_store, _registry.Names, build, _options.Serves, _time, _logger, cancellationToken);
            }
            catch (StorageException ex)
            {
                _logger.WorkerLoopError(ex, "retrying runs another build blocked");
            }
        }
        _warmSince = Pacing.GetUtcNow();
        _claimLoop = Task.Run(ClaimLoopAsync, CancellationToken.None);
        _renewLoop = Task.Run(RenewLoopAsync, CancellationToken.None);
        lock (_startGate)
        {
            _accepting = true;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        lock (_startGate)
        {
            _accepting = false; // after this, no eager start adds a run to the ones drained below
        }
        _logger.WorkerStopping(Owner, _active.Count);
        await _stopClaiming.CancelAsync();
        if (_claimLoop is not null)
        {
            await _claimLoop;
        }
        foreach (var (executor, _) in _active.Values)
        {
            executor.BeginDrain();
        }
        var all = Task.WhenAll(_active.Values.Select(a => a.Task));
        try
        {
            await all.WaitAsync(_options.DrainTimeout, Pacing, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Drain time is up: cancel step bodies; executors release their leases as they stop.
        }
        await _hardStop.CancelAsync();
        await all;
        if (_renewLoop is not null)
        {
            await _renewLoop;
        }
        try
        {
            await RecordSelfAsync(stopped: true, CancellationToken.None);
        }
        catch (StorageException ex)
        {
            _logger.WorkerLoopError(ex, "worker registry");
        }
    }

    /// <summary>Registers this worker in the store (what it serves, where it runs, that it is alive or stopped).</summary>
    private Task RecordSelfAsync(bool stopped, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return _store.RecordWorkerAsync(new WorkerInfo
        {
            WorkerId = Owner, Host = Environment.MachineName, ProcessId = Environment.ProcessId, Build = _options.BuildId,
            Workflows = [.. _registry.Names.Order(StringComparer.Ordinal)], StartedAt = _startedAt, LastSeenAt = now, StoppedAt = stopped ? now : null,
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopClaiming.Dispose();
        _hardStop.Dispose();
    }

    private async Task ClaimLoopAsync()
    {
        var stop = _stopClaiming.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var workSignal = _notifier.WorkAvailable;
                // A store that pushes wake-ups (PostgreSQL LISTEN/NOTIFY) brings work from other processes at once.
                var storeSignal = (_store as IStoreWakeup)?.WorkAvailable ?? workSignal;
                var slotSignal = Volatile.Read(ref _slotFreed).Task;
                TakeStoreSignals();
                var capacity = _options.MaxConcurrentRuns - _active.Count - Volatile.Read(ref _reserved);
                var claimedFull = false;
                if (capacity > 0)
                {
                    var want = Math.Min(capacity, ClaimBatch);
                    var now = _time.GetUtcNow();
                    var expires = now + _options.LeaseDuration;
                    var claimed = await _store.ClaimRunsAsync(new ClaimRequest
                    {
                        Owner = Owner, WorkflowNames = _registry.Names, MaxRuns = want, Now = now,
                        LeaseExpiresAt = expires, ConcurrencyLimits = _options.ConcurrencyLimits,
                        MaxAlone = Volatile.Read(ref _alone) is null && Pacing.GetUtcNow() - _warmSince >= _options.SuspectWarmup ? 1 : 0,
                        Build = _options.BuildId, ServesBuilds = _servesBuilds,
                    }, stop);
                    foreach (var run in claimed)
                    {
                        StartExecutor(run, expires);
                    }
                    claimedFull = claimed.Count == want;
                }
                if (claimedFull)
                {
                    continue; // there may be more
                }
                var waitFor = capacity > 0
                    ? Task.WhenAny(workSignal, storeSignal, Task.Delay(_options.PollInterval, Pacing, stop))
                    : Task.WhenAny(workSignal, slotSignal, Task.Delay(_options.PollInterval, Pacing, stop));
                await waitFor;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _logger.WorkerLoopError(ex, "claim");
                await DelayQuietlyAsync(_options.PollInterval, stop);
            }
        }
    }

    private void StartExecutor(ClaimedRun claimed, DateTimeOffset leaseExpiresAt)
    {
        var definition = _registry.Get(claimed.Run.WorkflowName);
        if (_active.TryGetValue(claimed.Run.RunId, out var stale))
        {
            // Our own lease lapsed (renewal fell behind) and we claimed the run again: the old executor is fenced out.
            stale.Executor.Abort();
        }
        var executor = new RunExecutor(_services, claimed, definition, leaseExpiresAt);
        if (claimed.Alone)
        {
            // Until its executor says it is no longer suspect: the other runs start no new bodies meanwhile.
            Volatile.Write(ref _alone, executor);
            _services.AloneGate!.Close();
        }
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = RunExecutorAsync(executor, started.Task);
        _active[claimed.Run.RunId] = (executor, task);
        KeelTelemetry.ActiveRuns.Add(1);
        started.SetResult();
        _notifier.NotifyRunChanged(claimed.Run.RunId); // its waiters here stop polling: the executor's end will tell them
    }

    private async Task RunExecutorAsync(RunExecutor executor, Task registered)
    {
        await registered;
        try
        {
            await Task.Run(() => executor.RunAsync(_hardStop.Token));
        }
        finally
        {
            // Out of the active set first, so the renewal loop no longer sees it, then disposed.
            if (_active.TryGetValue(executor.RunId, out var entry) && ReferenceEquals(entry.Executor, executor))
            {
                _active.TryRemove(KeyValuePair.Create(executor.RunId, entry));
            }
            executor.Dispose();
            KeelTelemetry.ActiveRuns.Add(-1);
            Interlocked.Exchange(ref _slotFreed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            _notifier.NotifyRunChanged(executor.RunId);
            if (_options.ConcurrencyLimits.ContainsKey(executor.WorkflowName))
            {
                _notifier.NotifyWork(); // a slot of a limited workflow is free: its queue moves now, not at the next poll
            }
        }
    }

    private async Task RenewLoopAsync()
    {
        var stop = _hardStop.Token;
        var lastDeadOwnerCheck = Pacing.GetUtcNow();
        var lastSeen = Pacing.GetUtcNow();
        var lastPurge = DateTimeOffset.MinValue;
        while (!stop.IsCancellationRequested)
        {
            await DelayQuietlyAsync(_options.LeaseRenewInterval, stop);
            if (stop.IsCancellationRequested)
            {
                break;
            }
            try
            {
                TakeStoreSignals();
                await RenewAsync(stop);
                if (_options.RetainFinishedRunsFor is { } retain && Pacing.GetUtcNow() - lastPurge >= _options.RetentionPurgeInterval)
                {
                    lastPurge = Pacing.GetUtcNow();
                    await PurgeFinishedRunsAsync(retain, stop);
                }
                if (Pacing.GetUtcNow() - lastSeen >= WorkerHeartbeat)
                {
                    lastSeen = Pacing.GetUtcNow();
                    await RecordSelfAsync(stopped: false, stop);
                }
                if (Pacing.GetUtcNow() - lastDeadOwnerCheck > TimeSpan.FromSeconds(5))
                {
                    lastDeadOwnerCheck = Pacing.GetUtcNow();
                    await ExpireDeadOwnersAsync(stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _logger.WorkerLoopError(ex, "lease renewal");
            }
        }
    }

    /// <summary>
    /// One renewal pass over the runs held here: extends their leases, tells each executor its new expiry, aborts the
    /// ones another worker took, and delivers requests. One run's trouble never cuts the pass short for the others.
    /// </summary>
    private async Task RenewAsync(CancellationToken stop)
    {
        var held = _active.Values.Select(a => a.Executor).Where(e => !e.HasReleased).ToDictionary(e => e.RunId, StringComparer.Ordinal);
        if (held.Count == 0)
        {
            return;
        }
        var expiresAt = _time.GetUtcNow() + _options.LeaseDuration;
        var renewal = await _store.RenewLeasesAsync(Owner, [.. held.Values.Select(e => e.Lease)], expiresAt, stop);
        var lost = renewal.Lost.ToHashSet(StringComparer.Ordinal);
        foreach (var executor in held.Values)
        {
            if (!lost.Contains(executor.RunId))
            {
                executor.LeaseRenewed(expiresAt);
            }
            else if (!executor.HasReleased && IsCurrent(executor))
            {
                // Not one this executor handed back meanwhile (released, paused, finished): another worker has it.
                _logger.LeaseLost(executor.RunId);
                executor.Abort();
            }
        }
        foreach (var (request, runIds) in (ReadOnlySpan<(RunRequest, IReadOnlyList<string>)>)
            [(RunRequest.Cancel, renewal.CancelRequested), (RunRequest.Pause, renewal.PauseRequested), (RunRequest.Signals, renewal.Signalled)])
        {
            foreach (var runId in runIds)
            {
                if (held.TryGetValue(runId, out var executor) && IsCurrent(executor))
                {
                    TryDeliver(request, runId);
                }
            }
        }
    }

    private bool IsCurrent(RunExecutor executor) => _active.TryGetValue(executor.RunId, out var entry) && ReferenceEquals(entry.Executor, executor);

    /// <summary>Hands the runs a NOTIFY said were signalled (PostgreSQL, any process) to their executors here.</summary>
    private void TakeStoreSignals()
    {
        while (_store is IStoreWakeup wakeup && wakeup.TryTakeSignalledRun(out var runId))
        {
            TryDeliver(RunRequest.Signals, runId);
        }
    }

    /// <summary>Deletes finished runs past the retention age, one bounded batch (one short transaction) at a time.</summary>
    private async Task PurgeFinishedRunsAsync(TimeSpan retain, CancellationToken cancellationToken)
    {
        const int batch = 500;
        var before = _time.GetUtcNow() - retain;
        var purged = 0;
        int deleted;
        do
        {
            deleted = await _store.PurgeFinishedRunsAsync(before, batch, cancellationToken);
            purged += deleted;
        }
        while (deleted == batch && !cancellationToken.IsCancellationRequested);
        if (purged > 0)
        {
            _logger.RunsPurged(purged, before);
        }
    }

    /// <summary>Frees the leases of workers on this machine whose process is gone, so their runs resume without waiting out the lease.</summary>
    private async Task ExpireDeadOwnersAsync(CancellationToken cancellationToken)
    {
        var owners = await _store.GetLeaseOwnersAsync(cancellationToken);
        var dead = owners.Where(o => o != Owner && OwnerId.IsDeadLocalOwner(o)).ToList();
        if (dead.Count > 0)
        {
            var freed = await _store.ExpireLeasesAsync(dead, cancellationToken);
            if (_logger.IsEnabled(LogLevel.Information))
            {
                _logger.DeadOwnersExpired(freed, string.Join(", ", dead));
            }
            _notifier.NotifyWork();
        }
    }

    private static async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, Pacing, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
