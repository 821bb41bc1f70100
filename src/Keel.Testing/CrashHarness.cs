using System.Diagnostics;
using Keel.Sqlite;
using Keel.Storage;

namespace Keel.Testing;

/// <summary>One run of a workflow under the harness: where its process died, and how the run ended.</summary>
/// <param name="CrashAfterEntry">The crash point: the process died right after the append that committed this journal entry
/// of the run's own (annotations such as which worker held it are not counted: they depend on scheduling; 0: the
/// uninterrupted reference run). See <see cref="CrashPointStore"/>.</param>
/// <param name="Crashed">False when the run finished before reaching the crash point.</param>
/// <param name="Run">The run as it ended, after recovery.</param>
/// <param name="Journal">Its journal.</param>
public sealed record CrashTrial(int CrashAfterEntry, bool Crashed, RunInfo Run, IReadOnlyList<JournalEntry> Journal);

/// <summary>What the harness found.</summary>
/// <param name="Reference">The uninterrupted run.</param>
/// <param name="ReferenceEntries">The journal entries the reference run wrote (the crash points tried are 1 to this).</param>
/// <param name="Trials">One per crash point.</param>
public sealed record CrashReport(CrashTrial Reference, int ReferenceEntries, IReadOnlyList<CrashTrial> Trials)
{
    /// <summary>Trials whose run ended otherwise than the reference run (status or result).</summary>
    public IReadOnlyList<CrashTrial> Diverged =>
        [.. Trials.Where(t => t.Run.Status != Reference.Run.Status || t.Run.Result != Reference.Run.Result)];
}

/// <summary>The "process" a workflow's code runs in under the harness: fakes ask it whether it is still alive.</summary>
public sealed class HarnessProcess
{
    private readonly Func<bool> _isDead;

    internal HarnessProcess(int crashPoint, Func<bool> isDead)
    {
        CrashPoint = crashPoint;
        _isDead = isDead;
    }

    /// <summary>The crash point of this trial (0 for the reference run); the process that recovers the trial's run has the
    /// same point, and never dies.</summary>
    public int CrashPoint { get; }

    /// <summary>True once the process died: work it still does (a step body in flight) must have no effect, as a
    /// killed process would do nothing more.</summary>
    public bool IsDead => _isDead();

    /// <summary>A process that never dies.</summary>
    public static HarnessProcess Immortal { get; } = new(0, () => false);
}

/// <summary>
/// Crashes a workflow after each journal entry in turn and checks that it recovers to the result of an uninterrupted
/// run. In-process (<see cref="RunInProcessAsync"/>): the worker's store dies at the point and the worker's memory is
/// abandoned; a new worker on the same SQLite file recovers the run. Out-of-process (<see cref="RunOutOfProcessAsync"/>):
/// a child process runs the worker with a <see cref="CrashPointStore"/> in <see cref="CrashMode.AnnounceAndHang"/> mode
/// and is killed with SIGKILL when it announces the point.
/// </summary>
public static class CrashHarness
{
    /// <summary>Runs the workflow once without a crash, then once per crash point, in-process.</summary>
    /// <param name="configure">Registers the workflows (called for every worker; the process tells fakes whether it is dead).</param>
    /// <param name="workflowName">The workflow to start.</param>
    /// <param name="inputJson">Its input.</param>
    /// <param name="drive">Called while a recovered run is unfinished, with the client and run id: resolve what needs a person.</param>
    /// <param name="cancellationToken">Cancels the harness.</param>
    /// <returns>The report.</returns>
    public static async Task<CrashReport> RunInProcessAsync(Action<KeelBuilder, HarnessProcess> configure, string workflowName, string inputJson,
        Func<KeelClient, string, Task>? drive = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var (reference, entries) = await TrialAsync(configure, workflowName, inputJson, 0, drive, cancellationToken).ConfigureAwait(false);
        var trials = new List<CrashTrial>();
        for (var point = 1; point <= entries; point++)
        {
            var (trial, _) = await TrialAsync(configure, workflowName, inputJson, point, drive, cancellationToken).ConfigureAwait(false);
            trials.Add(trial);
        }
        return new CrashReport(reference, entries, trials);
    }

    private static async Task<(CrashTrial Trial, int Entries)> TrialAsync(Action<KeelBuilder, HarnessProcess> configure, string workflowName, string inputJson,
        int point, Func<KeelClient, string, Task>? drive, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("keel-crash-harness-");
        try
        {
            var path = Path.Combine(directory.FullName, "keel.db");
            await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = path, Durability = SqliteDurability.Normal });
            var crashing = new CrashPointStore(store, point, CrashMode.Throw);
            var dying = new HarnessProcess(point, () => crashing.IsDead);
            const string runId = "harness-run";
            var first = $"harness-worker-{point}-1";
            await using (var keel = await StartWorkerAsync(crashing, first, k => configure(k, dying), cancellationToken).ConfigureAwait(false))
            {
                await keel.Client.StartWithJsonAsync(workflowName, inputJson, new StartWorkflowOptions { RunId = runId }, cancellationToken).ConfigureAwait(false);
                var finished = await UntilAsync(async () => crashing.IsDead || await IsFinishedAsync(store, cancellationToken).ConfigureAwait(false),
                    keel.Client, runId, drive, cancellationToken).ConfigureAwait(false);
                if (!finished)
                {
                    throw new TimeoutException($"Crash point {point}: the run did not finish or crash within the harness's time.");
                }
            }
            var crashed = crashing.IsDead;
            if (crashed)
            {
                // The dead worker's leases would outlive it for the lease duration: free them, as a restarted host does for a dead pid.
                await store.ExpireLeasesAsync([first], cancellationToken).ConfigureAwait(false);
                // Wrapped so the worker's host does not dispose the store this trial still reads.
                await using var keel = await StartWorkerAsync(new CrashPointStore(store, 0, CrashMode.Throw), $"harness-worker-{point}-2",
                    k => configure(k, new HarnessProcess(point, () => false)), cancellationToken).ConfigureAwait(false);
                if (!await UntilAsync(() => IsFinishedAsync(store, cancellationToken), keel.Client, runId, drive, cancellationToken).ConfigureAwait(false))
                {
                    var stuck = await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
                    throw new TimeoutException($"Crash point {point}: the run did not finish after recovery; it is {stuck?.Status}: {stuck?.StatusReason ?? stuck?.Error?.ToString()}");
                }
            }
            var run = await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
            var journal = await store.GetJournalAsync(runId, cancellationToken).ConfigureAwait(false);
            return (new CrashTrial(point, crashed, run, journal), crashing.Entries);

            async Task<bool> IsFinishedAsync(IWorkflowStore s, CancellationToken ct) =>
                (await s.GetRunAsync(runId, ct).ConfigureAwait(false))?.Status.IsTerminal() == true;
        }
        finally
        {
            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static Task<KeelHost> StartWorkerAsync(IWorkflowStore store, string workerId, Action<KeelBuilder> configure, CancellationToken cancellationToken) =>
        KeelHost.StartAsync(k =>
        {
            k.UseStore(_ => store).Configure(o =>
            {
                o.WorkerId = workerId;
                o.PollInterval = TimeSpan.FromMilliseconds(20);
                o.DrainTimeout = TimeSpan.FromMilliseconds(50);
            });
            configure(k);
        }, cancellationToken: cancellationToken);

    private static async Task<bool> UntilAsync(Func<Task<bool>> done, KeelClient client, string runId, Func<KeelClient, string, Task>? drive, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await done().ConfigureAwait(false))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                return false;
            }
            if (drive is not null)
            {
                try
                {
                    await drive(client, runId).ConfigureAwait(false);
                }
                catch (StorageException)
                {
                    // the "process" died under the driver; the loop sees it
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>
    /// Out-of-process: for each crash point from 1 (until runs finish without reaching their point three times in a row), starts the child
    /// process <paramref name="startWorker"/> describes for that point (its store wrapped in a <see cref="CrashPointStore"/>
    /// in <see cref="CrashMode.AnnounceAndHang"/> mode), SIGKILLs it when it announces the point, then starts a worker that
    /// never crashes (point 0) until the run finishes. <paramref name="startRun"/> starts the run (a fresh database per point).
    /// </summary>
    /// <param name="startRun">Creates a fresh database for the point and starts the run in it; returns the run id and a client on it.</param>
    /// <param name="startWorker">The child process for a crash point (0: never crash).</param>
    /// <param name="maxPoints">A bound on the points tried.</param>
    /// <param name="cancellationToken">Cancels the harness.</param>
    /// <returns>One trial per point.</returns>
    public static async Task<IReadOnlyList<CrashTrial>> RunOutOfProcessAsync(Func<int, Task<(string RunId, KeelClient Client)>> startRun,
        Func<int, ProcessStartInfo> startWorker, int maxPoints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startRun);
        ArgumentNullException.ThrowIfNull(startWorker);
        var trials = new List<CrashTrial>();
        var missed = 0;
        for (var point = 1; point <= maxPoints && missed < 3; point++)
        {
            var (runId, client) = await startRun(point).ConfigureAwait(false);
            var crashed = await RunChildAsync(startWorker(point), untilAnnounced: true, client, runId, cancellationToken).ConfigureAwait(false);
            if (crashed)
            {
                await RunChildAsync(startWorker(0), untilAnnounced: false, client, runId, cancellationToken).ConfigureAwait(false);
            }
            var run = await client.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
            trials.Add(new CrashTrial(point, crashed, run, await client.GetJournalAsync(runId, cancellationToken).ConfigureAwait(false)));
            // A run that wrote fewer entries than this point finished first; stop after three such points in a row.
            missed = crashed ? 0 : missed + 1;
        }
        return trials;
    }

    /// <summary>Runs a worker process until it announces its crash point (then SIGKILLs it; returns true) or the run finishes.</summary>
    private static async Task<bool> RunChildAsync(ProcessStartInfo start, bool untilAnnounced, KeelClient client, string runId, CancellationToken cancellationToken)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith(CrashPointStore.Announcement, StringComparison.Ordinal) == true)
            {
                announced.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (announced.Task.IsCompleted)
                {
                    process.Kill(); // SIGKILL on Unix: no cleanup runs in the child
                    await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                }
                if ((await client.GetRunAsync(runId, cancellationToken).ConfigureAwait(false))?.Status.IsTerminal() == true)
                {
                    return false;
                }
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"The worker process exited with code {process.ExitCode} before the run finished.");
                }
                await Task.WhenAny(announced.Task, Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, cancellationToken)).ConfigureAwait(false);
            }
            throw new TimeoutException($"The run did not {(untilAnnounced ? "reach its crash point or " : "")}finish within 60 s.");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
