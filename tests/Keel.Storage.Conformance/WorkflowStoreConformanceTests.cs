using System.Collections.Concurrent;
using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>
/// The store contract, as facts every <see cref="IWorkflowStore"/> must pass. Not a test project: this file is linked
/// into each store's test project, which derives it and gives every test its own empty database.
/// </summary>
/// <remarks>xUnit creates one instance per test, so a derived constructor that makes a fresh database (file or
/// schema) isolates every test; <see cref="DisposeAsync"/> removes it.</remarks>
public abstract partial class WorkflowStoreConformanceTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<IWorkflowStore> _stores = [];

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A new, not yet initialized store object over this test's database (each call: another instance, same data).</summary>
    protected abstract IWorkflowStore CreateStore();

    /// <summary>Overwrites the stored schema version behind the store's back.</summary>
    protected abstract Task SetSchemaVersionAsync(int version);

    /// <summary>Reads the stored schema version behind the store's back.</summary>
    protected abstract Task<int> GetSchemaVersionAsync();

    /// <summary>Counts stored runs behind the store's back.</summary>
    protected abstract Task<long> CountRunsAsync();

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    protected async Task<IWorkflowStore> OpenAsync()
    {
        var store = CreateStore();
        _stores.Add(store);
        await store.InitializeAsync(Token);
        return store;
    }

    protected static Task<IReadOnlyList<ClaimedRun>> ClaimAsync(IWorkflowStore store, string owner, DateTimeOffset now, int max = 10, string workflow = "w") =>
        store.ClaimRunsAsync(new ClaimRequest { Owner = owner, WorkflowNames = [workflow], MaxRuns = max, Now = now, LeaseExpiresAt = now.AddSeconds(30) }, Token);

    protected static JournalEntry Entry(int seq, string name) =>
        new() { Sequence = seq, Kind = JournalEntryKind.StepCompleted, Name = name, RecordedAt = T0, Payload = "1" };

    protected static Task<CreateRunResult> CreateAsync(IWorkflowStore store, string runId, DateTimeOffset? at = null, int priority = 0, string workflow = "w") =>
        store.CreateRunAsync(new NewRun { RunId = runId, WorkflowName = workflow, Input = "{}", Priority = priority, CreatedAt = at ?? T0 }, Token);

    /// <summary>Creates a run of "w" at T0 held by <paramref name="owner"/> (eager start), its lease to T0 + 30 s.</summary>
    protected static Task<CreateRunResult> CreateHeldAsync(IWorkflowStore store, string runId, string owner) =>
        store.CreateRunAsync(new NewRun { RunId = runId, WorkflowName = "w", Input = "{}", CreatedAt = T0, Owner = owner, LeaseExpiresAt = T0.AddSeconds(30) }, Token);

    [Fact]
    public async Task GetRuns_ReturnsTheRunsThatExist_AsGetRunReadsThem()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "a");
        await CreateAsync(store, "b", priority: 3);
        await CreateHeldAsync(store, "c", "worker-a");

        var runs = await store.GetRunsAsync(["c", "missing", "a", "b"], Token);

        Assert.Equal(["a", "b", "c"], runs.Select(r => r.RunId).Order(StringComparer.Ordinal));
        foreach (var run in runs)
        {
            Assert.Equal(await store.GetRunAsync(run.RunId, Token), run);
        }
        Assert.Empty(await store.GetRunsAsync(["missing"], Token));
        Assert.Empty(await store.GetRunsAsync([], Token));
        Assert.Equal("b", Assert.Single(await store.GetRunsAsync(["b"], Token)).RunId);
    }

    [Fact]
    public async Task Create_HeldByAnOwner_IsRunningUnderAnEpochOneLease_ThatFencesAndFailsOverLikeAClaim()
    {
        var store = await OpenAsync();
        var created = await CreateHeldAsync(store, "r", "worker-a");
        Assert.True(created.Created);
        Assert.Equal(new RunLease("r", "worker-a", 1), created.Lease);
        Assert.Equal(RunStatus.Running, created.Run.Status);
        Assert.Equal("worker-a", created.Run.Owner);
        Assert.Equal(0, created.Run.RecoveryAttempts);
        Assert.Equal(["worker-a"], await store.GetLeaseOwnersAsync(Token));

        Assert.Empty(await ClaimAsync(store, "worker-b", T0.AddSeconds(10))); // held: no one else claims it
        Assert.True(await store.AppendAsync(created.Lease!, [Entry(0, "one")], null, Token));
        Assert.Equal(0, (await store.GetRunAsync("r", Token))!.RecoveryAttempts); // progress, as after a claim
        Assert.Empty((await store.RenewLeasesAsync("worker-a", [created.Lease!], T0.AddSeconds(40), Token)).Lost);

        // The holder dies: its lease expires, another worker takes the run over and fences the first out.
        Assert.Empty(await ClaimAsync(store, "worker-b", T0.AddSeconds(35)));
        var b = (await ClaimAsync(store, "worker-b", T0.AddSeconds(41))).Single();
        Assert.Equal(2, b.Lease.Epoch);
        Assert.Equal(1, b.JournalLength ?? 1);
        Assert.False(await store.AppendAsync(created.Lease!, [Entry(1, "stale")], null, Token));
        Assert.True(await store.AppendAsync(b.Lease, [Entry(1, "two")], null, Token));
        Assert.Equal(["one", "two"], (await store.GetJournalAsync("r", Token)).Select(e => e.Name));
    }

    [Fact]
    public async Task Create_HeldWithAnIdThatExists_ReturnsTheStoredRunAndNoLease()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var again = await CreateHeldAsync(store, "r", "worker-a");
        Assert.False(again.Created);
        Assert.Null(again.Lease);
        Assert.Equal(RunStatus.Pending, again.Run.Status);
        Assert.Null(again.Run.Owner);
        Assert.Equal("r", (await ClaimAsync(store, "worker-b", T0)).Single().Run.RunId); // still anyone's to claim
        Assert.Null((await CreateAsync(store, "s")).Lease); // unheld creation: no lease
    }

    [Fact]
    public async Task Claim_TakesHigherPriorityFirstThenEarlierDue_AndOnlyKnownWorkflows()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "low-early", T0);
        await CreateAsync(store, "high-late", T0.AddSeconds(2), priority: 5);
        await CreateAsync(store, "low-late", T0.AddSeconds(1));
        await CreateAsync(store, "other", T0, priority: 9, workflow: "unknown");
        await CreateAsync(store, "future", T0.AddHours(1), priority: 9);

        var first = await ClaimAsync(store, "a", T0.AddSeconds(3), max: 2);
        Assert.Equal(["high-late", "low-early"], first.Select(c => c.Run.RunId));
        var rest = await ClaimAsync(store, "a", T0.AddSeconds(3));
        Assert.Equal(["low-late"], rest.Select(c => c.Run.RunId));
        Assert.All(first.Concat(rest), c => Assert.Equal(RunStatus.Running, c.Run.Status));
        Assert.All(first.Concat(rest), c => Assert.Equal("a", c.Run.Owner));
        Assert.All(first.Concat(rest), c => Assert.Equal(0, c.Run.RecoveryAttempts));
        Assert.All(first.Concat(rest), c => Assert.False(c.Alone));
    }

    [Fact]
    public async Task AppendsWithoutUpdate_NumberEntriesInOrder_MoveLastChange_AndStayFenced()
    {
        // (SQLite: after a run's first append, appends with no update only read the fence and write the journal.)
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var a = (await ClaimAsync(store, "worker-a", T0)).Single();
        Assert.True(await store.AppendAsync(a.Lease, [Entry(1, "one") with { RecordedAt = T0.AddSeconds(1) }], null, Token));
        Assert.True(await store.AppendAsync(a.Lease,
            [Entry(2, "two") with { RecordedAt = T0.AddSeconds(2) }, Entry(3, "three") with { RecordedAt = T0.AddSeconds(3) }], null, Token));
        Assert.Equal(T0.AddSeconds(3), (await store.GetRunAsync("r", Token))!.UpdatedAt);
        Assert.Equal(T0.AddSeconds(3), (await store.ListRunsAsync(new RunQuery(), Token)).Runs.Single().UpdatedAt);

        var b = (await ClaimAsync(store, "worker-b", T0.AddSeconds(40))).Single(); // A's lease expired
        Assert.True(b.JournalLength is null or 3, $"journal length {b.JournalLength}");
        Assert.True(await store.AppendAsync(b.Lease, [Entry(4, "four") with { RecordedAt = T0.AddSeconds(41) }], null, Token));
        Assert.False(await store.AppendAsync(a.Lease, [Entry(4, "stale")], null, Token)); // B's progress reset the recovery count
        Assert.True(await store.AppendAsync(b.Lease, [Entry(5, "five") with { RecordedAt = T0.AddSeconds(42) }], null, Token));

        var journal = await store.GetJournalAsync("r", Token);
        Assert.Equal(["one", "two", "three", "four", "five"], journal.Select(e => e.Name));
        Assert.Equal([0L, 1, 2, 3, 4], journal.Select(e => e.Index));
        Assert.Equal(0, (await store.GetRunAsync("r", Token))!.RecoveryAttempts);
    }

    protected static Task<IReadOnlyList<ClaimedRun>> ClaimAloneAsync(IWorkflowStore store, string owner, DateTimeOffset now, int max = 10) =>
        store.ClaimRunsAsync(new ClaimRequest { Owner = owner, WorkflowNames = ["w"], MaxRuns = max, MaxAlone = 1, Now = now, LeaseExpiresAt = now.AddSeconds(30) }, Token);

    [Fact]
    public async Task Purge_DeletesOnlyFinishedRunsOlderThanTheCutoff_InBatches()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 5; i++)
        {
            await CreateAsync(store, $"old-{i}");
        }
        await CreateAsync(store, "recent");
        await CreateAsync(store, "running");
        var claims = await ClaimAsync(store, "a", T0, max: 10);
        foreach (var claim in claims.Where(c => c.Run.RunId != "running"))
        {
            var at = claim.Run.RunId == "recent" ? T0.AddDays(10) : T0.AddDays(1);
            var done = RunUpdate.Finish(RunStatus.Completed, at, result: "1");
            Assert.True(await store.AppendAsync(claim.Lease, [Entry(1, "s"), Entry(0, "w") with { Kind = JournalEntryKind.RunCompleted }], done, Token));
        }

        Assert.Equal(3, await store.PurgeFinishedRunsAsync(T0.AddDays(5), 3, Token));
        Assert.Equal(2, await store.PurgeFinishedRunsAsync(T0.AddDays(5), 3, Token)); // fewer than the batch: done
        Assert.Equal(0, await store.PurgeFinishedRunsAsync(T0.AddDays(5), 3, Token));
        Assert.Null(await store.GetRunAsync("old-0", Token));
        Assert.Empty(await store.GetJournalAsync("old-0", Token));
        Assert.NotNull(await store.GetRunAsync("recent", Token));
        Assert.Equal(2, (await store.GetJournalAsync("recent", Token)).Count);
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync("running", Token))!.Status);
    }

    [Fact]
    public async Task SetPriority_ChangesClaimOrder_AndUnknownRunIsNull()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "first", T0);
        await CreateAsync(store, "second", T0.AddSeconds(1));
        var changed = await store.SetPriorityAsync("second", 7, T0.AddSeconds(2), Token);
        Assert.Equal(7, changed!.Priority);
        Assert.Equal(T0.AddSeconds(2), changed.UpdatedAt);
        Assert.Null(await store.SetPriorityAsync("missing", 1, T0, Token));
        var claimed = await ClaimAsync(store, "a", T0.AddSeconds(3), max: 1);
        Assert.Equal("second", Assert.Single(claimed).Run.RunId);
    }

    [Fact]
    public async Task Pause_FreeRunAtOnce_HeldRunByRequest_ResumeMakesItRunnable()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "free");
        await CreateAsync(store, "held");
        Assert.Equal(PauseOutcome.Done, await store.RequestPauseAsync("free", T0, Token));
        var held = Assert.Single(await ClaimAsync(store, "a", T0, max: 1, workflow: "w"), c => c.Run.RunId == "held");
        Assert.Equal(PauseOutcome.Requested, await store.RequestPauseAsync("held", T0.AddSeconds(1), Token));
        var renewal = await store.RenewLeasesAsync("a", [held.Lease], T0.AddMinutes(1), Token);
        Assert.Equal(["held"], renewal.PauseRequested);
        Assert.True(await store.AppendAsync(held.Lease, [], RunUpdate.Pause(T0.AddSeconds(2)), Token));
        var paused = await store.GetRunAsync("held", Token);
        Assert.Equal(RunStatus.Paused, paused!.Status);
        Assert.False(paused.PauseRequested);
        Assert.Empty(await ClaimAsync(store, "b", T0.AddHours(1)));

        Assert.Equal(PauseOutcome.Done, await store.ResumeAsync("free", T0.AddHours(1), Token));
        Assert.Equal(PauseOutcome.NotApplicable, await store.ResumeAsync("free", T0.AddHours(1), Token));
        Assert.Equal(["free"], (await ClaimAsync(store, "b", T0.AddHours(1))).Select(c => c.Run.RunId));
        Assert.Equal(PauseOutcome.NotFound, await store.RequestPauseAsync("missing", T0, Token));
    }

    [Fact]
    public async Task Journal_RoundTripsEveryField()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        var entry = new JournalEntry
        {
            Sequence = 3, Kind = JournalEntryKind.StepAttemptFailed, Name = "fetch", Attempt = 2, StartedAt = T0.AddMilliseconds(5),
            RecordedAt = T0.AddMilliseconds(9), Error = new ErrorInfo("System.TimeoutException", "slow", "at X") { IsTerminal = false },
            RetryAt = T0.AddSeconds(4),
        };
        var plain = new JournalEntry { Sequence = 4, Kind = JournalEntryKind.StepCompleted, Name = "ünïcode ✓", RecordedAt = T0.AddSeconds(1), Payload = "{\"a\":[1,2]}" };
        Assert.True(await store.AppendAsync(claim.Lease, [entry, plain], null, Token));
        Assert.True(await store.AppendAsync(claim.Lease, [plain with { Sequence = 5 }], null, Token));
        var read = await store.GetJournalAsync("r", Token);
        Assert.Equal([entry with { Index = 0 }, plain with { Index = 1 }, plain with { Index = 2, Sequence = 5 }], read);
        Assert.Empty(await store.GetJournalAsync("missing", Token));
    }

    [Fact]
    public async Task Create_IsIdempotentByRunId()
    {
        var store = await OpenAsync();
        var first = await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "1", Priority = 3, CreatedAt = T0 }, Token);
        var second = await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w2", Input = "2", CreatedAt = T0.AddSeconds(1) }, Token);
        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(first.Run, second.Run);
        Assert.Equal("1", second.Run.Input);
        Assert.Equal("w", second.Run.WorkflowName);
        Assert.Equal(3, second.Run.Priority);
        Assert.Equal(RunStatus.Pending, second.Run.Status);
        Assert.Equal(T0, second.Run.CreatedAt);
        Assert.Null(await store.GetRunAsync("other", Token));
    }

    [Fact]
    public async Task NewerSchema_IsRefusedAndLeftUntouched()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "keep");
        var current = await GetSchemaVersionAsync();
        Assert.True(current >= 1);
        await SetSchemaVersionAsync(99);
        await using var newer = CreateStore();
        var ex = await Assert.ThrowsAsync<StorageException>(() => newer.InitializeAsync(Token));
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains("newer Keel", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
        Assert.Equal(99, await GetSchemaVersionAsync());
        Assert.Equal(1, await CountRunsAsync());
    }

    [Fact]
    public async Task Initialize_IsIdempotent_AndKeepsData()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "keep");
        await store.InitializeAsync(Token);
        var again = await OpenAsync();
        Assert.NotNull(await again.GetRunAsync("keep", Token));
        Assert.Equal(1, await CountRunsAsync());
    }

    [Fact]
    public async Task RenewLeases_ExtendsHeldLeases_AndReportsCancelRequests()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r1");
        await CreateAsync(store, "r2");
        var claims = await ClaimAsync(store, "a", T0); // leases to T0+30s
        Assert.Equal(2, claims.Count);
        Assert.Equal(CancelOutcome.Requested, await store.RequestCancelAsync("r1", "user asked", T0.AddSeconds(1), Token));
        var renewal = await store.RenewLeasesAsync("a", [.. claims.Select(c => c.Lease)], T0.AddSeconds(90), Token);
        Assert.Empty(renewal.Lost);
        Assert.Equal(["r1"], renewal.CancelRequested);
        Assert.Empty(await ClaimAsync(store, "b", T0.AddSeconds(60))); // renewed past the original expiry
        Assert.Equal(2, (await ClaimAsync(store, "b", T0.AddSeconds(91))).Count);
        var run = await store.GetRunAsync("r1", Token);
        Assert.True(run!.CancelRequested);
        Assert.Equal("cancelled: user asked", run.StatusReason);
        var lost = await store.RenewLeasesAsync("a", [.. claims.Select(c => c.Lease)], T0.AddSeconds(200), Token);
        Assert.Equal(["r1", "r2"], lost.Lost.Order(StringComparer.Ordinal));
        Assert.Empty(lost.CancelRequested);
    }

    [Fact]
    public async Task ExpireLeases_FreesRunsOfDeadOwnersOnly()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r1");
        await CreateAsync(store, "r2");
        await CreateAsync(store, "r3");
        var dead = await ClaimAsync(store, "dead", T0, max: 2);
        var alive = Assert.Single(await ClaimAsync(store, "alive", T0));
        Assert.Equal(["alive", "dead"], (await store.GetLeaseOwnersAsync(Token)).Order(StringComparer.Ordinal));
        Assert.Empty(await ClaimAsync(store, "b", T0.AddSeconds(1)));

        Assert.Equal(2, await store.ExpireLeasesAsync(["dead", "never-seen"], Token));
        var taken = await ClaimAsync(store, "b", T0.AddSeconds(1));
        Assert.Equal(dead.Select(c => c.Run.RunId).Order(StringComparer.Ordinal), taken.Select(c => c.Run.RunId).Order(StringComparer.Ordinal));
        foreach (var d in dead)
        {
            Assert.False(await store.AppendAsync(d.Lease, [Entry(1, "late")], null, Token));
        }
        Assert.True(await store.AppendAsync(alive.Lease, [Entry(1, "fine")], null, Token));
        Assert.Equal(0, await store.ExpireLeasesAsync([], Token));
    }

    [Fact]
    public async Task RequestCancel_ReportsWhatHappened()
    {
        var store = await OpenAsync();
        Assert.Equal(CancelOutcome.NotFound, await store.RequestCancelAsync("missing", null, T0, Token));

        await CreateAsync(store, "pending");
        Assert.Equal(CancelOutcome.Cancelled, await store.RequestCancelAsync("pending", "not needed", T0.AddSeconds(1), Token));
        var cancelled = await store.GetRunAsync("pending", Token);
        Assert.Equal(RunStatus.Cancelled, cancelled!.Status);
        Assert.Equal("cancelled: not needed", cancelled.StatusReason);
        Assert.Equal(T0.AddSeconds(1), cancelled.CompletedAt);
        var entry = Assert.Single(await store.GetJournalAsync("pending", Token));
        Assert.Equal(JournalEntryKind.RunCancelled, entry.Kind);
        Assert.Equal("w", entry.Name);
        Assert.Equal(0, entry.Index);
        Assert.Equal(CancelOutcome.AlreadyFinished, await store.RequestCancelAsync("pending", null, T0.AddSeconds(2), Token));
        Assert.Empty(await ClaimAsync(store, "a", T0.AddHours(1)));

        await CreateAsync(store, "running", T0.AddHours(1));
        var claim = Assert.Single(await ClaimAsync(store, "a", T0.AddHours(1)));
        Assert.Equal(CancelOutcome.Requested, await store.RequestCancelAsync("running", null, T0.AddHours(1).AddSeconds(1), Token));
        var flagged = await store.GetRunAsync("running", Token);
        Assert.Equal(RunStatus.Running, flagged!.Status);
        Assert.True(flagged.CancelRequested);
        Assert.Equal("cancelled on request", flagged.StatusReason);
        Assert.Equal("a", flagged.Owner);

        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.Finish(RunStatus.Blocked, T0.AddHours(2)), Token));
        Assert.Equal(CancelOutcome.Cancelled, await store.RequestCancelAsync("running", null, T0.AddHours(2), Token));
        Assert.Equal(RunStatus.Cancelled, (await store.GetRunAsync("running", Token))!.Status);
        Assert.Equal(JournalEntryKind.RunCancelled, (await store.GetJournalAsync("running", Token))[^1].Kind);

        await CreateAsync(store, "completed", T0.AddHours(3));
        var done = Assert.Single(await ClaimAsync(store, "a", T0.AddHours(3)));
        await store.AppendAsync(done.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddHours(3), result: "1"), Token);
        Assert.Equal(CancelOutcome.AlreadyFinished, await store.RequestCancelAsync("completed", null, T0.AddHours(3), Token));
    }

    [Fact]
    public async Task ListRuns_FiltersAndPagesNewestFirst()
    {
        var store = await OpenAsync();
        // Ties on created_at are ordered by run id, descending, and paged across without loss or repeats.
        string[] ids = ["a1", "a2", "a3", "b1", "b2", "c1", "c2"];
        for (var i = 0; i < ids.Length; i++)
        {
            await CreateAsync(store, ids[i], T0.AddSeconds(i / 2), workflow: ids[i].StartsWith('c') ? "other" : "w");
        }
        var claimed = await ClaimAsync(store, "a", T0.AddMinutes(1), max: 2); // a1 and a2 by due time
        foreach (var c in claimed)
        {
            await store.AppendAsync(c.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddMinutes(1)), Token);
        }

        var all = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await store.ListRunsAsync(new RunQuery { Limit = 3, Cursor = cursor }, Token);
            Assert.True(page.Runs.Count <= 3);
            all.AddRange(page.Runs.Select(r => r.RunId));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);
        Assert.Equal(["c2", "c1", "b2", "b1", "a3", "a2", "a1"], all);
        Assert.Equal(3, pages);

        var completed = await store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Completed] }, Token);
        Assert.Equal(["a2", "a1"], completed.Runs.Select(r => r.RunId));
        Assert.Null(completed.NextCursor);
        var pendingOrDone = await store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Pending, RunStatus.Completed], WorkflowName = "w" }, Token);
        Assert.Equal(["b2", "b1", "a3", "a2", "a1"], pendingOrDone.Runs.Select(r => r.RunId));
        var other = await store.ListRunsAsync(new RunQuery { WorkflowName = "other" }, Token);
        Assert.Equal(["c2", "c1"], other.Runs.Select(r => r.RunId));
        var window = await store.ListRunsAsync(new RunQuery { CreatedAfter = T0.AddSeconds(1), CreatedBefore = T0.AddSeconds(3) }, Token);
        Assert.Equal(["c1", "b2", "b1", "a3"], window.Runs.Select(r => r.RunId));
        var none = await store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Failed] }, Token);
        Assert.Empty(none.Runs);
        Assert.Null(none.NextCursor);
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListRunsAsync(new RunQuery { Cursor = "garbage" }, Token));
    }

    [Fact]
    public async Task Claim_ConcurrentClaimers_NeverBothOwnARun()
    {
        const int Runs = 60;
        const int Claimers = 8;
        var setup = await OpenAsync();
        for (var i = 0; i < Runs; i++)
        {
            await CreateAsync(setup, $"r{i:00}", T0.AddMilliseconds(i), priority: i % 3);
        }
        var stores = new List<IWorkflowStore>();
        for (var i = 0; i < Claimers; i++)
        {
            stores.Add(await OpenAsync());
        }
        var claims = new ConcurrentBag<ClaimedRun>();
        var now = T0.AddSeconds(1);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = stores.Select((store, i) => Task.Run(async () =>
        {
            await start.Task;
            var empty = 0;
            while (empty < 3)
            {
                var got = await ClaimAsync(store, $"worker-{i}", now, max: 3);
                foreach (var c in got)
                {
                    claims.Add(c);
                    // The owner can write with its lease: it really holds the run.
                    Assert.True(await store.AppendAsync(c.Lease, [Entry(1, $"by-{i}")], null, Token));
                }
                empty = got.Count == 0 ? empty + 1 : 0;
            }
        }, Token)).ToList();
        start.SetResult();
        await Task.WhenAll(tasks);

        var byRun = claims.GroupBy(c => c.Run.RunId).ToList();
        Assert.Equal(Runs, byRun.Count);
        Assert.All(byRun, g => Assert.Single(g));
        for (var i = 0; i < Runs; i++)
        {
            var journal = await setup.GetJournalAsync($"r{i:00}", Token);
            var single = Assert.Single(journal);
            Assert.Equal($"by-{claims.Single(c => c.Run.RunId == $"r{i:00}").Lease.Owner["worker-".Length..]}", single.Name);
        }
    }

    private static Task<SignalOutcome> SignalAsync(IWorkflowStore store, string runId, string name, string payload, DateTimeOffset at) =>
        store.SendSignalAsync(new NewSignal { RunId = runId, Name = name, Payload = payload, SentAt = at }, Token);

    private static RunUpdate ReleaseWaitingFor(DateTimeOffset at, params string[] names) =>
        RunUpdate.ReleaseToWait(RunStatus.Waiting, null, names, null, null, at);

    [Fact]
    public async Task Claim_WithConcurrencyLimit_CountsRunsHeldByEveryOwner()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 5; i++)
        {
            await CreateAsync(store, $"llm{i}", T0.AddMilliseconds(i), workflow: "llm");
            await CreateAsync(store, $"free{i}", T0.AddMilliseconds(i), workflow: "free");
        }
        ClaimRequest Request(string owner, DateTimeOffset now) => new()
        {
            Owner = owner, WorkflowNames = ["llm", "free"], MaxRuns = 10, Now = now, LeaseExpiresAt = now.AddSeconds(30),
            ConcurrencyLimits = new Dictionary<string, int> { ["llm"] = 2 },
        };
        var a = await store.ClaimRunsAsync(Request("a", T0.AddSeconds(1)), Token);
        Assert.Equal(2, a.Count(c => c.Run.WorkflowName == "llm"));
        Assert.Equal(5, a.Count(c => c.Run.WorkflowName == "free"));
        Assert.Empty(await store.ClaimRunsAsync(Request("b", T0.AddSeconds(2)), Token));

        // One held run finishes: one slot opens, for any owner.
        var finished = a.First(c => c.Run.WorkflowName == "llm");
        Assert.True(await store.AppendAsync(finished.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(2)), Token));
        var b = await store.ClaimRunsAsync(Request("b", T0.AddSeconds(3)), Token);
        Assert.Equal("llm", Assert.Single(b).Run.WorkflowName);
    }

    /// <summary>Run "parent", released to wait for its child "parent.1" (sequence 1), which is created and not started.</summary>
    private async Task<IWorkflowStore> ParentWaitingForItsChildAsync()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "parent");
        var parent = (await ClaimAsync(store, "a", T0)).Single();
        await store.CreateRunAsync(new NewRun { RunId = "parent.1", WorkflowName = "w", Input = "1", CreatedAt = T0, ParentRunId = "parent", ParentSequence = 1 }, Token);
        Assert.True(await store.AppendAsync(parent.Lease, [], ReleaseWaitingFor(T0, ParentNotice.SignalNameFor(1)), Token));
        return store;
    }

    [Fact]
    public async Task CancellingANeverStartedChild_EndsItAtOnce_AndTellsItsWaitingParent()
    {
        var store = await ParentWaitingForItsChildAsync();

        Assert.Equal(CancelOutcome.Cancelled, await store.RequestCancelAsync("parent.1", "not needed", T0.AddSeconds(1), Token));
        Assert.Equal(RunStatus.Cancelled, (await store.GetRunAsync("parent.1", Token))!.Status);
        Assert.Equal(JournalEntryKind.RunCancelled, Assert.Single(await store.GetJournalAsync("parent.1", Token)).Kind);
        Assert.Equal("keel.child/1", Assert.Single(await store.GetSignalsAsync("parent", Token)).Name);
        Assert.Equal("parent", Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(1))).Run.RunId); // woken by it
    }

    [Fact]
    public async Task Workers_AreRecordedByIdAndListedBySeenTime_MostRecentFirst()
    {
        var store = await OpenAsync();
        WorkerInfo Worker(string id, DateTimeOffset seen, params string[] workflows) => new()
        {
            WorkerId = id, Host = "host-1", ProcessId = 42, Build = "1.2.3", Workflows = workflows, StartedAt = T0, LastSeenAt = seen,
        };
        await store.RecordWorkerAsync(Worker("a", T0.AddMinutes(1), "w", "v"), Token);
        await store.RecordWorkerAsync(Worker("b", T0.AddMinutes(5), "x"), Token);
        await store.RecordWorkerAsync(Worker("a", T0.AddMinutes(9), "w") with { StoppedAt = T0.AddMinutes(9) }, Token); // replaced, stopped

        var all = await store.ListWorkersAsync(T0, Token);
        Assert.Equal(["a", "b"], all.Select(w => w.WorkerId));
        Assert.Equal(Worker("a", T0.AddMinutes(9), "w") with { StoppedAt = T0.AddMinutes(9), Workflows = all[0].Workflows }, all[0]);
        Assert.Equal(["w"], all[0].Workflows);
        Assert.Equal(["b"], (await store.ListWorkersAsync(T0.AddMinutes(2), Token) is var recent ? recent : []).Where(w => w.WorkerId == "b").Select(w => w.WorkerId));
        Assert.Equal(["a"], (await store.ListWorkersAsync(T0.AddMinutes(6), Token)).Select(w => w.WorkerId));

        // The runs each holds, counted from the runs' leases.
        await CreateAsync(store, "r1");
        await CreateAsync(store, "r2");
        await CreateAsync(store, "r3");
        Assert.Equal(2, (await ClaimAsync(store, "b", T0.AddMinutes(5), max: 2)).Count);
        Assert.Single(await ClaimAsync(store, "a", T0.AddMinutes(5)));
        var held = (await store.ListWorkersAsync(T0, Token)).ToDictionary(w => w.WorkerId, w => w.RunsHeld);
        Assert.Equal((1, 2), (held["a"], held["b"]));

        await store.RecordWorkerAsync(Worker("c", T0.AddDays(40), "w"), Token); // workers not seen for 30 days are forgotten
        Assert.Equal(["c"], (await store.ListWorkersAsync(T0, Token)).Select(w => w.WorkerId));
    }
}
