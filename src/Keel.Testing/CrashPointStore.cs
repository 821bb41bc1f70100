using Keel.Storage;

namespace Keel.Testing;

/// <summary>What a <see cref="CrashPointStore"/> does when its crash point is reached.</summary>
public enum CrashMode
{
    /// <summary>In-process: the append that reached the point commits, then throws; every later call throws. The process
    /// "died" there: its memory is abandoned, and <see cref="CrashPointStore.IsDead"/> tells fakes to ignore its effects.</summary>
    Throw,

    /// <summary>Out-of-process: the append commits, a line <c>KEEL-CRASH-POINT N</c> goes to standard output, and the
    /// call never returns, so the parent process can SIGKILL this one exactly there.</summary>
    AnnounceAndHang,
}

/// <summary>
/// Wraps a store and crashes the process that uses it right after the append that commits its N-th journal entry
/// (entries of all runs that go through this store, counted from 1; a point of 0 never crashes, and just counts).
/// </summary>
/// <remarks>Points count entries, not append calls: concurrent work (parallel branches, a child run) may share one
/// append in one trial and use several in the next, but the entries written before a given one stay the same, so the
/// point that falls right after it is the same in every trial.</remarks>
public sealed class CrashPointStore(IWorkflowStore inner, int crashAfterEntry, CrashMode mode) : IWorkflowStore, IStoreWakeup
{
    /// <summary>The line printed before hanging (<see cref="CrashMode.AnnounceAndHang"/>).</summary>
    public const string Announcement = "KEEL-CRASH-POINT";

    private int _appends;
    private int _entries;
    private volatile bool _dead;

    /// <summary>Journal appends (of at least one entry) committed so far.</summary>
    public int Appends => Volatile.Read(ref _appends);

    /// <summary>Journal entries committed so far, not counting annotations (<see cref="JournalKinds.IsAnnotation"/>).</summary>
    public int Entries => Volatile.Read(ref _entries);

    /// <summary>True once the crash point was reached: the "process" is gone.</summary>
    public bool IsDead => _dead;

    /// <inheritdoc />
    public Task WorkAvailable => (inner as IStoreWakeup)?.WorkAvailable ?? Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System);

    /// <inheritdoc />
    public bool TryTakeSignalledRun(out string runId)
    {
        runId = "";
        return inner is IStoreWakeup wakeup && wakeup.TryTakeSignalledRun(out runId);
    }

    /// <inheritdoc />
    public bool WatchFinishedRuns(Action<string> onFinished) => inner is IStoreWakeup wakeup && wakeup.WatchFinishedRuns(onFinished);

    /// <inheritdoc />
    public async Task<bool> AppendAsync(RunLease lease, IReadOnlyList<JournalEntry> entries, RunUpdate? update, CancellationToken cancellationToken = default)
    {
        Alive();
        var appended = await inner.AppendAsync(lease, entries, update, cancellationToken).ConfigureAwait(false);
        // Crash points count the run's own entries: annotations (which worker held it, statuses) depend on scheduling,
        // so counting them would move a point from one trial to the next.
        var work = entries.Count(e => !JournalKinds.IsAnnotation(e.Kind));
        if (!appended || work == 0)
        {
            return appended;
        }
        Interlocked.Increment(ref _appends);
        var total = Interlocked.Add(ref _entries, work);
        if (crashAfterEntry > 0 && total - work < crashAfterEntry && total >= crashAfterEntry)
        {
            _dead = true;
            if (mode == CrashMode.AnnounceAndHang)
            {
                await Console.Out.WriteLineAsync($"{Announcement} {crashAfterEntry}").ConfigureAwait(false);
                await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
            }
            throw new SimulatedCrashException(crashAfterEntry);
        }
        return appended;
    }

    private void Alive()
    {
        if (_dead)
        {
            throw new SimulatedCrashException(crashAfterEntry);
        }
    }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) => GuardAsync(() => inner.InitializeAsync(cancellationToken));

    /// <inheritdoc />
    public Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken = default) => GuardAsync(() => inner.CreateRunAsync(run, cancellationToken));

    /// <inheritdoc />
    public Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default) => GuardAsync(() => inner.GetRunAsync(runId, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<RunInfo>> GetRunsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.GetRunsAsync(runIds, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.GetJournalAsync(runId, cancellationToken));

    /// <inheritdoc />
    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default) => GuardAsync(() => inner.ListRunsAsync(query, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<RunStatus, int>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default) => GuardAsync(() => inner.CountRunsAsync(query, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.ClaimRunsAsync(request, cancellationToken));

    /// <inheritdoc />
    public Task<LeaseRenewal> RenewLeasesAsync(string owner, IReadOnlyCollection<RunLease> leases, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.RenewLeasesAsync(owner, leases, expiresAt, cancellationToken));

    /// <inheritdoc />
    public Task<CancelOutcome> RequestCancelAsync(string runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.RequestCancelAsync(runId, reason, at, cancellationToken));

    /// <inheritdoc />
    public Task RecordWorkerAsync(WorkerInfo worker, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.RecordWorkerAsync(worker, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(DateTimeOffset seenSince, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.ListWorkersAsync(seenSince, cancellationToken));

    /// <inheritdoc />
    public Task<UnblockOutcome> UnblockAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.UnblockAsync(runId, action, at, cancellationToken));

    /// <inheritdoc />
    public Task<RetryOutcome> RetryAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.RetryAsync(runId, action, at, cancellationToken));

    /// <inheritdoc />
    public Task<bool> AppendRunRecordAsync(string runId, JournalEntry record, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.AppendRunRecordAsync(runId, record, cancellationToken));

    /// <inheritdoc />
    public Task<ForkOutcome> ForkAsync(NewRun fork, IReadOnlyList<JournalEntry> journal, string sourceRunId, JournalEntry sourceRecord,
        CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.ForkAsync(fork, journal, sourceRunId, sourceRecord, cancellationToken));

    /// <inheritdoc />
    public Task<PauseOutcome> RequestPauseAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.RequestPauseAsync(runId, at, cancellationToken));

    /// <inheritdoc />
    public Task<PauseOutcome> ResumeAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.ResumeAsync(runId, at, cancellationToken));

    /// <inheritdoc />
    public Task<RunInfo?> SetPriorityAsync(string runId, int priority, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.SetPriorityAsync(runId, priority, at, cancellationToken));

    /// <inheritdoc />
    public Task<int> PurgeFinishedRunsAsync(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.PurgeFinishedRunsAsync(finishedBefore, batchSize, cancellationToken));

    /// <inheritdoc />
    public Task PutMessagesAsync(string runId, IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.PutMessagesAsync(runId, messages, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> GetMessagesAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.GetMessagesAsync(hashes, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> GetRunMessagesAsync(string runId, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.GetRunMessagesAsync(runId, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> GetLeaseOwnersAsync(CancellationToken cancellationToken = default) => GuardAsync(() => inner.GetLeaseOwnersAsync(cancellationToken));

    /// <inheritdoc />
    public Task<int> ExpireLeasesAsync(IReadOnlyCollection<string> owners, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.ExpireLeasesAsync(owners, cancellationToken));

    /// <inheritdoc />
    public Task<SignalOutcome> SendSignalAsync(NewSignal signal, CancellationToken cancellationToken = default) => GuardAsync(() => inner.SendSignalAsync(signal, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredSignal>> GetSignalsAsync(string runId, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.GetSignalsAsync(runId, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.ListPendingApprovalsAsync(runId, limit, cancellationToken));

    /// <inheritdoc />
    public Task<DecideOutcome> DecideApprovalAsync(string runId, int sequence, string signalName, string decision, DateTimeOffset at,
        CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.DecideApprovalAsync(runId, sequence, signalName, decision, at, cancellationToken));

    /// <summary>Does not dispose the inner store: the next "process" goes on using it.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<T> GuardAsync<T>(Func<Task<T>> call)
    {
        Alive();
        return call();
    }

    private Task GuardAsync(Func<Task> call)
    {
        Alive();
        return call();
    }
}

/// <summary>The store "died" at a crash point (<see cref="CrashPointStore"/>): nothing after it was written.</summary>
public sealed class SimulatedCrashException(int crashPoint)
    : StorageException($"Simulated crash after journal append {crashPoint}: this process is gone.", false);
