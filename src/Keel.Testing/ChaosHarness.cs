using System.Diagnostics;
using System.Globalization;
using Keel.Storage;

namespace Keel.Testing;

/// <summary>
/// A chaos soak with the invariants built in: starts worker processes, runs a workload against them, SIGKILLs (and
/// optionally SIGSTOPs) them at random while it runs, restarting each at once as a supervisor would, settles runs that
/// need attention through an operator policy, waits until every run has ended, and then checks from the workers'
/// <see cref="BodyLedger"/> and the journals that no completed step ran again, no AtMostOnce body ran twice, no
/// Idempotent body changed its key, no journaled completion lacks its body, no stopped worker acted after its lease
/// passed on, and no healthy run was quarantined.
/// </summary>
public static partial class ChaosHarness
{
    private static readonly TimeProvider Clock = TimeProvider.System;

    /// <summary>Runs the soak described by <paramref name="options"/> and reports what it found.</summary>
    /// <param name="options">Workers, workload, interference, operator and expectations.</param>
    /// <param name="cancellationToken">Cancels the soak (the workers are killed).</param>
    /// <returns>The report; <see cref="ChaosReport.Holds"/> when every invariant held.</returns>
    public static async Task<ChaosReport> RunAsync(ChaosOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Client);
        ArgumentNullException.ThrowIfNull(options.StartWorker);
        ArgumentNullException.ThrowIfNull(options.Workload);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.LedgerDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Kills);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Stops);
        if (options.MinInterval < TimeSpan.Zero || options.MaxInterval < options.MinInterval)
        {
            throw new ArgumentException($"The interval must be 0 <= MinInterval ({options.MinInterval}) <= MaxInterval ({options.MaxInterval}).", nameof(options));
        }

        var seed = options.Seed ?? Random.Shared.Next();
        var random = new Random(seed);
        var log = options.Log ?? (_ => { });
        log(string.Create(CultureInfo.InvariantCulture,
            $"chaos: seed {seed}, {options.Workers} worker(s), {options.Kills} kill(s), {options.Stops} stop(s), every {options.MinInterval.TotalMilliseconds:0}-{options.MaxInterval.TotalMilliseconds:0} ms, ledger {options.LedgerDirectory}"));
        Directory.CreateDirectory(options.LedgerDirectory);
        var wall = Stopwatch.StartNew();
        var state = new SoakState();
        var violations = new List<string>();
        var workers = Enumerable.Range(0, options.Workers).Select(i => new ChaosWorker(i, options)).ToList();
        using var background = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var workloadCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var chaosEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chaosRunning = 1;
        try
        {
            foreach (var worker in workers)
            {
                worker.Start();
            }
            var supervisor = SuperviseAsync(workers, state, log, background.Token);
            var operatorTask = OperateAsync(options, state, log, background.Token);
            var context = new ChaosWorkloadContext(options.Client, new Random(unchecked(seed * 31 + 7)), chaosEnded.Task,
                () => Volatile.Read(ref chaosRunning) == 1, workloadCts.Token);
            var workload = Task.Run(() => options.Workload(context), CancellationToken.None);

            await InterfereAsync(options, workers, random, state, workload, log, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref chaosRunning, 0);
            chaosEnded.TrySetResult();
            log(string.Create(CultureInfo.InvariantCulture, $"chaos: interference done after {wall.Elapsed.TotalSeconds:0.0} s ({state.Kills} kills, {state.Stops} stops); settling"));

            // The workload first (it may still send signals and approvals the runs wait for), then every run.
            var settleDeadline = Clock.GetUtcNow() + options.SettleTimeout;
            try
            {
                await workload.WaitAsync(options.SettleTimeout, Clock, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                violations.Add($"The workload did not return within the settle timeout ({options.SettleTimeout.TotalSeconds:0} s); it was cancelled.");
                await workloadCts.CancelAsync().ConfigureAwait(false);
                // Give it a moment to see its token, so it does not use the client after the caller has moved on.
                await Task.WhenAny(workload, Task.Delay(TimeSpan.FromSeconds(5), Clock, CancellationToken.None)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                violations.Add($"The workload failed: {ex.GetType().Name}: {ex.Message}");
            }
            await SettleAsync(options.Client, settleDeadline, cancellationToken).ConfigureAwait(false);
            log(string.Create(CultureInfo.InvariantCulture, $"chaos: settled after {wall.Elapsed.TotalSeconds:0.0} s"));

            await background.CancelAsync().ConfigureAwait(false);
            await supervisor.ConfigureAwait(false);
            await operatorTask.ConfigureAwait(false);
            foreach (var worker in workers)
            {
                await worker.KillAsync().ConfigureAwait(false);
            }
            var events = state.Snapshot();
            if (!options.AllowWorkerExits)
            {
                violations.AddRange(events.Where(e => e.Kind == ChaosEventKind.Exit).Select(e =>
                    $"Worker {e.Worker} (pid {e.ProcessId}) exited on its own with code {e.ExitCode} at {e.At:HH:mm:ss.fff}."));
            }
            return await CheckAsync(options, seed, state, events, violations, wall, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await background.CancelAsync().ConfigureAwait(false);
            await workloadCts.CancelAsync().ConfigureAwait(false);
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }

    /// <summary>Kills and stops random workers at random intervals until the requested numbers were done.</summary>
    private static async Task InterfereAsync(ChaosOptions options, List<ChaosWorker> workers, Random random, SoakState state, Task workload,
        Action<string> log, CancellationToken cancellationToken)
    {
        while (state.Kills < options.Kills || state.Stops < options.Stops)
        {
            if (workload.IsFaulted)
            {
                log("chaos: the workload failed; interference stops early");
                return;
            }
            var interval = options.MinInterval + TimeSpan.FromTicks((long)(random.NextDouble() * (options.MaxInterval - options.MinInterval).Ticks));
            await Task.Delay(interval, Clock, cancellationToken).ConfigureAwait(false);
            var killsLeft = options.Kills - state.Kills;
            var stopsLeft = options.Stops - state.Stops;
            var stop = stopsLeft > 0 && (killsLeft <= 0 || random.Next(killsLeft + stopsLeft) < stopsLeft);
            var worker = workers[random.Next(workers.Count)];
            await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (worker.HasExited)
                {
                    Restart(worker, state, log); // it died on its own just now: the supervisor's work, done here
                    continue;
                }
                var pid = worker.Pid;
                var at = Clock.GetUtcNow();
                if (stop)
                {
                    await worker.SignalAsync("STOP").ConfigureAwait(false);
                    var continued = DateTimeOffset.MaxValue;
                    try
                    {
                        await Task.Delay(options.StopFor, Clock, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        if (!worker.HasExited)
                        {
                            // Taken before the signal: the process runs again the moment it is delivered, before kill(1) returns.
                            continued = Clock.GetUtcNow();
                            await worker.SignalAsync("CONT").ConfigureAwait(false);
                        }
                    }
                    state.Add(new ChaosEvent(ChaosEventKind.Stop, worker.Index, pid, at, continued));
                    log(string.Create(CultureInfo.InvariantCulture, $"chaos: stop {state.Stops} of worker {worker.Index} (pid {pid}) for {options.StopFor.TotalSeconds:0.0} s"));
                }
                else
                {
                    await worker.KillAsync().ConfigureAwait(false);
                    state.Add(new ChaosEvent(ChaosEventKind.Kill, worker.Index, pid, at));
                    worker.Start();
                    if (state.Kills % 10 == 0 || state.Kills == options.Kills)
                    {
                        log(string.Create(CultureInfo.InvariantCulture, $"chaos: {state.Kills} kills (last: worker {worker.Index}, pid {pid}; restarted as pid {worker.Pid})"));
                    }
                }
            }
            finally
            {
                worker.Gate.Release();
            }
        }
    }

    /// <summary>Restarts workers that exited on their own, at once, as a supervisor would.</summary>
    private static async Task SuperviseAsync(List<ChaosWorker> workers, SoakState state, Action<string> log, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var worker in workers)
            {
                if (worker.HasExited && await worker.Gate.WaitAsync(0, CancellationToken.None).ConfigureAwait(false))
                {
                    try
                    {
                        if (worker.HasExited && !cancellationToken.IsCancellationRequested)
                        {
                            Restart(worker, state, log);
                        }
                    }
                    finally
                    {
                        worker.Gate.Release();
                    }
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), Clock, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static void Restart(ChaosWorker worker, SoakState state, Action<string> log)
    {
        var (pid, code) = (worker.Pid, worker.ExitCode);
        state.Add(new ChaosEvent(ChaosEventKind.Exit, worker.Index, pid, Clock.GetUtcNow(), ExitCode: code));
        var tail = worker.Tail();
        // What it said last, without the stack frames (a FailFast's or an unhandled exception's message).
        var said = tail.Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).TakeLast(3).ToList();
        log(string.Create(CultureInfo.InvariantCulture, $"chaos: worker {worker.Index} (pid {pid}) exited on its own with code {code}; restarting") +
            (said.Count > 0 ? Environment.NewLine + "  | " + string.Join(Environment.NewLine + "  | ", said) : ""));
        worker.Start();
    }

    /// <summary>Hands each run that needs attention to the operator, and sends its decisions.</summary>
    private static async Task OperateAsync(ChaosOptions options, SoakState state, Action<string> log, CancellationToken cancellationToken)
    {
        if (options.Operator is not { } decide)
        {
            return;
        }
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var waiting = await ListAllAsync(options.Client, [RunStatus.NeedsAttention], cancellationToken).ConfigureAwait(false);
                IReadOnlyList<BodyStart>? bodies = null;
                foreach (var run in waiting)
                {
                    var journal = await options.Client.GetJournalAsync(run.RunId, cancellationToken).ConfigureAwait(false);
                    if (OpenAttention(journal) is not { } attention)
                    {
                        continue;
                    }
                    bodies ??= BodyLedger.Read(options.LedgerDirectory);
                    var starts = bodies.Where(b => b.RunId == run.RunId && b.Sequence == attention.Sequence).ToList();
                    var decision = await decide(new AttentionCase(options.Client, run, journal, attention, starts), cancellationToken).ConfigureAwait(false);
                    if (decision is null)
                    {
                        continue;
                    }
                    try
                    {
                        await options.Client.ResolveAsync(run.RunId, decision, cancellationToken).ConfigureAwait(false);
                        state.Resolved();
                        log($"chaos: resolved run {run.RunId} step '{attention.Name}' (position {attention.Sequence}): {decision.Action}");
                    }
                    catch (Exception ex) when (ex is RunStateException or RunFinishedException)
                    {
                        // a decision is already on its way, or the run moved on: nothing to do
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StorageException)
            {
                // the store is busy or away for a moment: look again
            }
            try
            {
                await Task.Delay(options.OperatorInterval, Clock, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The NeedsAttention entry no resolution answered yet, if any (the run's history's open attention).</summary>
    private static JournalEntry? OpenAttention(IReadOnlyList<JournalEntry> journal) =>
        RunHistory.Build(null, journal).Attention is { } open ? journal.FirstOrDefault(e => e.Index == open.Index) : null;

    /// <summary>Waits until every run has ended (terminal or Blocked), or the deadline.</summary>
    private static async Task SettleAsync(KeelClient client, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var runs = await ListAllAsync(client, [], cancellationToken).ConfigureAwait(false);
                if (runs.All(Ended) || Clock.GetUtcNow() >= deadline)
                {
                    return;
                }
            }
            catch (StorageException) when (Clock.GetUtcNow() < deadline)
            {
                // look again
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), Clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool Ended(RunInfo run) => run.Status.IsTerminal() || run.Status == RunStatus.Blocked;

    private static async Task<List<RunInfo>> ListAllAsync(KeelClient client, IReadOnlyList<RunStatus> statuses, CancellationToken cancellationToken)
    {
        var runs = new List<RunInfo>();
        string? cursor = null;
        do
        {
            var page = await client.ListRunsAsync(new RunQuery { Statuses = statuses, Limit = 1000, Cursor = cursor }, cancellationToken).ConfigureAwait(false);
            runs.AddRange(page.Runs);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return runs;
    }

    /// <summary>What the soak counted as it went (touched from the interference, supervisor and operator tasks).</summary>
    private sealed class SoakState
    {
        private readonly Lock _lock = new();
        private readonly List<ChaosEvent> _events = [];
        private int _resolved;

        public int Kills { get; private set; }

        public int Stops { get; private set; }

        public int Exits { get; private set; }

        public int ResolvedCount => Volatile.Read(ref _resolved);

        public void Resolved() => Interlocked.Increment(ref _resolved);

        public void Add(ChaosEvent e)
        {
            lock (_lock)
            {
                _events.Add(e);
                switch (e.Kind)
                {
                    case ChaosEventKind.Kill:
                        Kills++;
                        break;
                    case ChaosEventKind.Stop:
                        Stops++;
                        break;
                    default:
                        Exits++;
                        break;
                }
            }
        }

        public List<ChaosEvent> Snapshot()
        {
            lock (_lock)
            {
                return [.. _events.OrderBy(e => e.At)];
            }
        }
    }
}
