using System.Diagnostics;
using System.Globalization;
using Keel.Storage;

namespace Keel.Bench;

/// <summary>
/// Bench instrumentation without touching the engine: wraps a store and reports when the engine's start-up calls
/// (initialize, lease owners, claim, journal load) begin and end, on the given clock.
/// </summary>
internal sealed class TimingStore(IWorkflowStore inner, Stopwatch clock, Action<string>? report) : IWorkflowStore, IStoreWakeup
{
    private static readonly Task Never = new TaskCompletionSource().Task;
    private long _createCalls;
    private long _renewCalls;
    private long _claimsWithRuns;
    private long _getRunCalls;
    private long _appendCalls;
    private long _claimCalls;

    public IWorkflowStore Inner => inner;

    /// <summary>GetRunAsync and GetRunsAsync calls so far (reads of runs: the client's waiters make most of them).</summary>
    public long GetRunCalls => Interlocked.Read(ref _getRunCalls);

    public long AppendCalls => Interlocked.Read(ref _appendCalls);

    public long ClaimCalls => Interlocked.Read(ref _claimCalls);

    public long CreateCalls => Interlocked.Read(ref _createCalls);

    public long RenewCalls => Interlocked.Read(ref _renewCalls);

    /// <summary>Claim calls that claimed at least one run (each is one write transaction).</summary>
    public long ClaimsWithRuns => Interlocked.Read(ref _claimsWithRuns);

    /// <summary>Forwards the inner store's wake-ups (PostgreSQL LISTEN/NOTIFY), so wrapping does not change the engine's behaviour.</summary>
    public Task WorkAvailable => (inner as IStoreWakeup)?.WorkAvailable ?? Never;

    private async Task<T> TimeAsync<T>(string name, Func<Task<T>> call, Func<T, string>? describe = null)
    {
        if (report is null)
        {
            return await call();
        }
        var start = clock.Elapsed.TotalMilliseconds;
        var result = await call();
        report?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"STORE {name} {start:F1}..{clock.Elapsed.TotalMilliseconds:F1} ms{(describe is null ? "" : " " + describe(result))}"));
        return result;
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        TimeAsync("InitializeAsync", async () =>
        {
            await inner.InitializeAsync(cancellationToken);
            return 0;
        });

    public Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _createCalls);
        return inner.CreateRunAsync(run, cancellationToken);
    }

    public Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _getRunCalls);
        return inner.GetRunAsync(runId, cancellationToken);
    }

    public Task<IReadOnlyList<RunInfo>> GetRunsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _getRunCalls); // one read, however many runs
        return inner.GetRunsAsync(runIds, cancellationToken);
    }

    public Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken = default) =>
        TimeAsync("GetJournalAsync", () => inner.GetJournalAsync(runId, cancellationToken), r => $"{r.Count} entries");

    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default) => inner.ListRunsAsync(query, cancellationToken);

    public Task<IReadOnlyDictionary<RunStatus, int>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default) => inner.CountRunsAsync(query, cancellationToken);

    public Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default) =>
        Interlocked.Increment(ref _claimCalls) > 0 ? ClaimTimedAsync(request, cancellationToken) : throw new InvalidOperationException();

    private async Task<IReadOnlyList<ClaimedRun>> ClaimTimedAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        var claimed = await TimeAsync("ClaimRunsAsync", () => inner.ClaimRunsAsync(request, cancellationToken), r => $"{r.Count} claimed");
        if (claimed.Count > 0)
        {
            Interlocked.Increment(ref _claimsWithRuns);
        }
        return claimed;
    }

    public Task<bool> AppendAsync(RunLease lease, IReadOnlyList<JournalEntry> entries, RunUpdate? update, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _appendCalls);
        return inner.AppendAsync(lease, entries, update, cancellationToken);
    }

    public Task<LeaseRenewal> RenewLeasesAsync(string owner, IReadOnlyCollection<RunLease> leases, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _renewCalls);
        return inner.RenewLeasesAsync(owner, leases, expiresAt, cancellationToken);
    }

    public Task<PauseOutcome> RequestPauseAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.RequestPauseAsync(runId, at, cancellationToken);

    public Task<PauseOutcome> ResumeAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.ResumeAsync(runId, at, cancellationToken);

    public Task<RunInfo?> SetPriorityAsync(string runId, int priority, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.SetPriorityAsync(runId, priority, at, cancellationToken);

    public Task<CancelOutcome> RequestCancelAsync(string runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.RequestCancelAsync(runId, reason, at, cancellationToken);

    public Task RecordWorkerAsync(WorkerInfo worker, CancellationToken cancellationToken = default) => inner.RecordWorkerAsync(worker, cancellationToken);

    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(DateTimeOffset seenSince, CancellationToken cancellationToken = default) =>
        inner.ListWorkersAsync(seenSince, cancellationToken);

    public Task<UnblockOutcome> UnblockAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.UnblockAsync(runId, action, at, cancellationToken);

    public Task<RetryOutcome> RetryAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.RetryAsync(runId, action, at, cancellationToken);

    public Task<bool> AppendRunRecordAsync(string runId, JournalEntry record, CancellationToken cancellationToken = default) =>
        inner.AppendRunRecordAsync(runId, record, cancellationToken);

    public Task<ForkOutcome> ForkAsync(NewRun fork, IReadOnlyList<JournalEntry> journal, string sourceRunId, JournalEntry sourceRecord,
        CancellationToken cancellationToken = default) =>
        inner.ForkAsync(fork, journal, sourceRunId, sourceRecord, cancellationToken);

    public Task<IReadOnlyList<string>> GetLeaseOwnersAsync(CancellationToken cancellationToken = default) =>
        TimeAsync("GetLeaseOwnersAsync", () => inner.GetLeaseOwnersAsync(cancellationToken), r => $"{r.Count} owners");

    public Task<int> ExpireLeasesAsync(IReadOnlyCollection<string> owners, CancellationToken cancellationToken = default) =>
        TimeAsync("ExpireLeasesAsync", () => inner.ExpireLeasesAsync(owners, cancellationToken), r => $"{r} freed");

    public Task<int> PurgeFinishedRunsAsync(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken = default) =>
        inner.PurgeFinishedRunsAsync(finishedBefore, batchSize, cancellationToken);

    public Task PutMessagesAsync(string runId, IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken = default) =>
        inner.PutMessagesAsync(runId, messages, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetMessagesAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default) =>
        inner.GetMessagesAsync(hashes, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetRunMessagesAsync(string runId, CancellationToken cancellationToken = default) =>
        inner.GetRunMessagesAsync(runId, cancellationToken);

    public Task<SignalOutcome> SendSignalAsync(NewSignal signal, CancellationToken cancellationToken = default) =>
        TimeAsync("SendSignalAsync", () => inner.SendSignalAsync(signal, cancellationToken), r => r.ToString());

    public Task<IReadOnlyList<StoredSignal>> GetSignalsAsync(string runId, CancellationToken cancellationToken = default) =>
        TimeAsync("GetSignalsAsync", () => inner.GetSignalsAsync(runId, cancellationToken), r => $"{r.Count} signals");

    public Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken = default) =>
        inner.ListPendingApprovalsAsync(runId, limit, cancellationToken);

    public Task<DecideOutcome> DecideApprovalAsync(string runId, int sequence, string signalName, string decision, DateTimeOffset at,
        CancellationToken cancellationToken = default) =>
        inner.DecideApprovalAsync(runId, sequence, signalName, decision, at, cancellationToken);

    public bool TryTakeSignalledRun(out string runId)
    {
        runId = "";
        return inner is IStoreWakeup wakeup && wakeup.TryTakeSignalledRun(out runId);
    }

    public bool WatchFinishedRuns(Action<string> onFinished) => inner is IStoreWakeup wakeup && wakeup.WatchFinishedRuns(onFinished);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
