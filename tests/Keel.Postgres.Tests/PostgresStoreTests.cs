using System.Diagnostics;
using Keel.Storage;

namespace Keel.Postgres.Tests;

/// <summary>PostgreSQL-only behaviour: concurrent migration, errors, LISTEN/NOTIFY, and the engine on top.</summary>
public sealed class PostgresStoreTests : IAsyncDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TestDatabase _db = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    [Theory]
    [InlineData("Host=db;Username=keel", PostgresWorkflowStore.DefaultMaxPoolSize)]
    [InlineData("Host=db;Username=keel;Maximum Pool Size=100", 100)]
    [InlineData("Host=db;Username=keel;maxpoolsize=7", 7)]
    public async Task PoolSize_IsCappedUnlessTheConnectionStringSetsIt(string connectionString, int expected)
    {
        // Npgsql's default pool (100) equals PostgreSQL's default max_connections: two busy workers could exhaust it.
        await using var store = new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = connectionString });
        Assert.Equal(expected, store.MaxPoolSize);
    }

    [Fact]
    public async Task Initialize_ManyStoresAtOnceOnAFreshSchema_MigrateOnce()
    {
        var stores = Enumerable.Range(0, 8).Select(_ => _db.CreateStore()).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(Token), Token)));
            Assert.Equal(PostgresSchema.LatestVersion, (int)(await _db.ScalarAsync($"SELECT version FROM {_db.Schema}.schema_version;"))!);
            Assert.Equal(1L, (long)(await _db.ScalarAsync($"SELECT count(*) FROM {_db.Schema}.schema_version;"))!);
            var created = await stores[3].CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, Token);
            Assert.True(created.Created);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("Keel")]
    [InlineData("keel; drop table x")]
    [InlineData("1keel")]
    [InlineData("")]
    public void Schema_ThatIsNotAPlainLowerCaseName_IsRejected(string schema)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = _db.ConnectionString, Schema = schema }));
        Assert.Contains("schema name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableServer_FailsAsTransientStorageException()
    {
        await using var store = new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = "Host=127.0.0.1;Port=1;Username=x;Timeout=3" });
        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(Token));
        Assert.True(ex.IsTransient);
        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchedAppends_OneFailingAppend_FailsAloneAndTheOthersCommit()
    {
        await using var store = _db.CreateStore();
        await store.InitializeAsync(Token);
        for (var i = 0; i < 30; i++)
        {
            await store.CreateRunAsync(new NewRun { RunId = $"r{i}", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, Token);
        }
        var claims = await store.ClaimRunsAsync(new ClaimRequest { Owner = "a", WorkflowNames = ["w"], MaxRuns = 30, Now = T0, LeaseExpiresAt = T0.AddMinutes(5) }, Token);
        Assert.Equal(30, claims.Count);
        var bad = claims[13].Lease;
        for (var round = 0; round < 5; round++)
        {
            var appends = claims.Select(c => store.AppendAsync(c.Lease,
                [new JournalEntry { Sequence = round, Kind = JournalEntryKind.StepCompleted, Name = "s", RecordedAt = T0, Payload = c.Lease == bad ? "\"\0\"" : "1" }],
                null, Token)).ToList();
            foreach (var (append, claim) in appends.Zip(claims))
            {
                if (claim.Lease == bad)
                {
                    var ex = await Assert.ThrowsAsync<StorageException>(() => append);
                    Assert.False(ex.IsTransient);
                }
                else
                {
                    Assert.True(await append);
                }
            }
        }
        Assert.Empty(await store.GetJournalAsync(bad.RunId, Token));
        foreach (var claim in claims.Where(c => c.Lease != bad))
        {
            Assert.Equal(Enumerable.Range(0, 5), (await store.GetJournalAsync(claim.Run.RunId, Token)).Select(e => e.Sequence));
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{store.AppendBatches} round trips for {5 * 30} appends");
    }

    [Fact]
    public async Task AppendsOfEachRun_SentWithoutWaiting_CommitInTheirOrder_AcrossSeveralWriters()
    {
        await using var store = _db.CreateStore(maxAppendBatchSize: 16, appendWriters: 3);
        var leases = await CreateAndClaimAsync(store, "a", [.. Enumerable.Range(0, 40).Select(i => $"r{i:00}")]);
        // Every run's eight appends are queued at once: they must reach the journal in the order they were made.
        var appends = leases.Values.SelectMany(lease => Enumerable.Range(0, 8).Select(seq => store.AppendAsync(lease,
            [new JournalEntry { Sequence = seq, Kind = JournalEntryKind.StepCompleted, Name = $"s{seq}", RecordedAt = T0, Payload = "1" }], null, Token))).ToList();
        Assert.All(await Task.WhenAll(appends), Assert.True);
        foreach (var runId in leases.Keys)
        {
            var journal = await store.GetJournalAsync(runId, Token);
            Assert.Equal(Enumerable.Range(0, 8), journal.Select(e => e.Sequence));
            Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), journal.Select(e => e.Index));
        }
    }

    /// <summary>Creates runs of workflow "w" at T0 and claims them all for <paramref name="owner"/> (leases to T0 + 5 min).</summary>
    private static async Task<Dictionary<string, RunLease>> CreateAndClaimAsync(PostgresWorkflowStore store, string owner, params string[] ids)
    {
        await store.InitializeAsync(Token);
        foreach (var id in ids)
        {
            await store.CreateRunAsync(new NewRun { RunId = id, WorkflowName = "w", Input = "{}", CreatedAt = T0 }, Token);
        }
        var claims = await store.ClaimRunsAsync(new ClaimRequest { Owner = owner, WorkflowNames = ["w"], MaxRuns = ids.Length, Now = T0, LeaseExpiresAt = T0.AddMinutes(5) }, Token);
        Assert.Equal(ids.Length, claims.Count);
        return claims.ToDictionary(c => c.Run.RunId, c => c.Lease);
    }

    [Fact]
    public async Task BatchedSignals_EachSendGetsItsRunsOutcome_InOrder_AndOnlyWaitersOfTheNameBecomeDue()
    {
        await using var store = _db.CreateStore();
        var claims = await CreateAndClaimAsync(store, "a", "done", "held", "other", "waiting");
        Assert.True(await store.AppendAsync(claims["done"], [], RunUpdate.Finish(RunStatus.Completed, T0, result: "1"), Token));
        foreach (var (id, name) in new[] { ("waiting", "go"), ("other", "x") })
        {
            Assert.True(await store.AppendAsync(claims[id], [], RunUpdate.ReleaseToWait(RunStatus.Waiting, null, [name], null, null, T0), Token));
        }

        // Sent without waiting, so they share batches.
        var at = T0.AddSeconds(1);
        var sends = new[] { ("waiting", "go"), ("held", "go"), ("done", "go"), ("missing", "go"), ("other", "go"), ("held", "s1"), ("held", "s2"), ("held", "s3") }
            .Select(s => store.SendSignalAsync(new NewSignal { RunId = s.Item1, Name = s.Item2, Payload = "\"p\"", SentAt = at }, Token)).ToList();
        Assert.Equal(
            [SignalOutcome.Stored, SignalOutcome.StoredHeld, SignalOutcome.AlreadyFinished, SignalOutcome.NotFound, SignalOutcome.Stored,
             SignalOutcome.StoredHeld, SignalOutcome.StoredHeld, SignalOutcome.StoredHeld],
            await Task.WhenAll(sends));

        Assert.Equal(["go", "s1", "s2", "s3"], (await store.GetSignalsAsync("held", Token)).Select(s => s.Name));
        Assert.Empty(await store.GetSignalsAsync("done", Token));
        var woken = await store.ClaimRunsAsync(new ClaimRequest { Owner = "b", WorkflowNames = ["w"], MaxRuns = 10, Now = at, LeaseExpiresAt = at.AddMinutes(5) }, Token);
        Assert.Equal(["waiting"], woken.Select(c => c.Run.RunId)); // "other" waits for "x"; "held" is still held by a
    }

    [Fact]
    public async Task BatchedAppendsConsumingSignals_DeleteThemOnlyWhereTheFenceHeld()
    {
        await using var store = _db.CreateStore();
        var leases = await CreateAndClaimAsync(store, "o", "a", "b", "c", "d");
        var signals = new Dictionary<string, long>();
        foreach (var id in leases.Keys)
        {
            Assert.Equal(SignalOutcome.StoredHeld, await store.SendSignalAsync(new NewSignal { RunId = id, Name = "go", Payload = "1", SentAt = T0 }, Token));
            signals[id] = Assert.Single(await store.GetSignalsAsync(id, Token)).Id;
        }
        JournalEntry Received(int seq) => new() { Sequence = seq, Kind = JournalEntryKind.SignalReceived, Name = "go", RecordedAt = T0, Payload = "1" };
        RunUpdate Consume(string id) => new() { Inbox = new InboxChange { ConsumedSignals = [signals[id]] }, At = T0 };

        // Queued together: two runs that consume, one with a stale lease, and one whose consuming append is followed by a
        // plain one in the same batch (a second round).
        var appends = new[]
        {
            store.AppendAsync(leases["a"], [Received(1)], Consume("a"), Token),
            store.AppendAsync(leases["b"], [Received(1)], Consume("b"), Token),
            store.AppendAsync(leases["c"] with { Epoch = leases["c"].Epoch - 1 }, [Received(1)], Consume("c"), Token),
            store.AppendAsync(leases["d"], [Received(1)], Consume("d"), Token),
            store.AppendAsync(leases["d"], [Received(2)], null, Token),
        };
        var held = await Task.WhenAll(appends);
        Assert.Equal(new[] { true, true, false, true, true }, held);

        foreach (var id in new[] { "a", "b", "d" })
        {
            Assert.Empty(await store.GetSignalsAsync(id, Token));
        }
        Assert.Equal(signals["c"], Assert.Single(await store.GetSignalsAsync("c", Token)).Id); // fenced out: consumed nothing
        Assert.Empty(await store.GetJournalAsync("c", Token));
        Assert.Equal([1, 2], (await store.GetJournalAsync("d", Token)).Select(e => e.Sequence));
    }

    [Fact]
    public async Task BatchedReleasesToWaitForSignals_AreDueAtOnceOnlyWhenTheirSignalIsAlreadyThere()
    {
        await using var store = _db.CreateStore();
        var leases = await CreateAndClaimAsync(store, "o", "has-signal", "no-signal", "stale");
        Assert.Equal(SignalOutcome.StoredHeld, await store.SendSignalAsync(new NewSignal { RunId = "has-signal", Name = "go", Payload = "1", SentAt = T0 }, Token));
        var at = T0.AddSeconds(1);
        RunUpdate Release() => RunUpdate.ReleaseToWait(RunStatus.Waiting, null, ["go"], null, null, at);

        // Queued together, so they share batches.
        var releases = new[]
        {
            store.AppendAsync(leases["has-signal"], [], Release(), Token),
            store.AppendAsync(leases["no-signal"], [], Release(), Token),
            store.AppendAsync(leases["stale"] with { Epoch = leases["stale"].Epoch - 1 }, [], Release(), Token),
        };
        var held = await Task.WhenAll(releases);
        Assert.Equal(new[] { true, true, false }, held);

        var claim = new ClaimRequest { Owner = "b", WorkflowNames = ["w"], MaxRuns = 10, Now = at.AddMinutes(10), LeaseExpiresAt = at.AddMinutes(20) };
        // "stale" is still held by o (its lease runs to T0+5 min, so it is claimable at +10 min as well); "no-signal" waits.
        Assert.Equal(["has-signal", "stale"], (await store.ClaimRunsAsync(claim, Token)).Select(c => c.Run.RunId).Order(StringComparer.Ordinal));
        Assert.Equal(SignalOutcome.Stored, await store.SendSignalAsync(new NewSignal { RunId = "no-signal", Name = "go", Payload = "2", SentAt = at.AddMinutes(10) }, Token));
        Assert.Equal(["no-signal"], (await store.ClaimRunsAsync(claim with { Owner = "c" }, Token)).Select(c => c.Run.RunId));
    }

    [Fact]
    public async Task BatchedCreates_RepeatedAndExistingIds_CreateEachRunOnce()
    {
        await using var store = _db.CreateStore();
        await store.InitializeAsync(Token);
        await store.CreateRunAsync(new NewRun { RunId = "old", WorkflowName = "w", Input = "1", CreatedAt = T0 }, Token);
        var ids = Enumerable.Range(0, 40).Select(i => $"r{i % 15}").Append("old").ToList();
        var results = await Task.WhenAll(ids.Select(id => store.CreateRunAsync(new NewRun { RunId = id, WorkflowName = "w", Input = "2", CreatedAt = T0 }, Token)));

        Assert.Equal(15, results.Count(r => r.Created));
        Assert.All(results, (r, i) => Assert.Equal(ids[i], r.Run.RunId));
        Assert.Equal("1", results[^1].Run.Input);
        Assert.Equal(16L, (long)(await _db.ScalarAsync($"SELECT count(*) FROM {_db.Schema}.runs;"))!);
    }

    [Fact]
    public async Task BatchedAppends_StaleLeasesRepeatedRunsAndReleases_EachRunFencedAndWrittenOnItsOwn()
    {
        await using var store = _db.CreateStore();
        await store.InitializeAsync(Token);
        for (var i = 0; i < 12; i++)
        {
            await store.CreateRunAsync(new NewRun { RunId = $"r{i:D2}", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, Token);
        }
        var claims = await store.ClaimRunsAsync(new ClaimRequest { Owner = "a", WorkflowNames = ["w"], MaxRuns = 12, Now = T0, LeaseExpiresAt = T0.AddMinutes(5) }, Token);
        var leases = claims.ToDictionary(c => c.Run.RunId, c => c.Lease);
        static JournalEntry Step(int seq) => new() { Sequence = seq, Kind = JournalEntryKind.StepCompleted, Name = "s", RecordedAt = T0, Payload = $"{seq}" };

        Assert.Equal(CancelOutcome.Requested, await store.RequestCancelAsync("r11", "stop", T0, Token));

        // Queued without waiting, so most share batches: stale epochs and owners, three appends of one run, two
        // entries in one append, a release that waits for nothing, a terminal status, a release until a time of a
        // run whose cancel is pending (due at once, or the cancel would wait for the timer).
        var appends = new List<(string Run, Task<bool> Held)>();
        foreach (var (run, lease) in leases.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            var stale = run switch
            {
                "r03" => lease with { Epoch = lease.Epoch - 1 },
                "r07" => lease with { Owner = "b" },
                _ => lease,
            };
            appends.Add((run, store.AppendAsync(stale, [Step(0)], null, Token)));
            if (run == "r05")
            {
                appends.Add((run, store.AppendAsync(lease, [Step(1), Step(2)], null, Token)));
                appends.Add((run, store.AppendAsync(lease, [Step(3)], RunUpdate.Finish(RunStatus.Completed, T0, result: "3"), Token)));
            }
            if (run == "r11")
            {
                appends.Add((run, store.AppendAsync(lease, [], new RunUpdate { Transition = new RunTransition { ReleaseLease = true, DueAt = T0.AddMinutes(1), WaitsForSignals = [] }, At = T0 }, Token)));
            }
            if (run == "r09")
            {
                appends.Add((run, store.AppendAsync(lease, [], new RunUpdate { Transition = new RunTransition { ReleaseLease = true, DueAt = T0.AddMinutes(1), WaitsForSignals = [] }, At = T0 }, Token)));
            }
        }
        foreach (var (run, held) in appends)
        {
            Assert.True(run is not ("r03" or "r07") == await held, $"append of {run}");
        }

        Assert.Empty(await store.GetJournalAsync("r03", Token));
        Assert.Empty(await store.GetJournalAsync("r07", Token));
        var r05 = await store.GetJournalAsync("r05", Token);
        Assert.Equal([0, 1, 2, 3], r05.Select(e => e.Sequence));
        Assert.Equal([0L, 1, 2, 3], r05.Select(e => e.Index));
        Assert.Equal(RunStatus.Completed, (await store.GetRunAsync("r05", Token))!.Status);
        Assert.Null((await store.GetRunAsync("r05", Token))!.Owner);
        Assert.Null((await store.GetRunAsync("r09", Token))!.Owner);
        Assert.Equal(T0.AddMinutes(1).ToUnixTimeMilliseconds(), (long)(await _db.ScalarAsync($"SELECT due_at FROM {_db.Schema}.runs WHERE run_id = 'r09';"))!);
        Assert.Equal(0, (int)(await _db.ScalarAsync($"SELECT cardinality(waiting_for) FROM {_db.Schema}.runs WHERE run_id = 'r09';"))!);
        Assert.Equal(T0.ToUnixTimeMilliseconds(), (long)(await _db.ScalarAsync($"SELECT due_at FROM {_db.Schema}.runs WHERE run_id = 'r11';"))!);
        Assert.Equal("a", (await store.GetRunAsync("r03", Token))!.Owner);
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync("r00", Token))!.Status);
        Assert.Single(await store.GetJournalAsync("r00", Token));
    }

    [Fact]
    public async Task WorkAvailable_CompletesWhenAnotherProcessCreatesARun_ButNotForARunCreatedHeldByItsWorker()
    {
        await using var listener = _db.CreateStore();
        await using var client = _db.CreateStore();
        await listener.InitializeAsync(Token);
        await client.InitializeAsync(Token);
        _ = listener.WorkAvailable;
        await listener.Listening.WaitAsync(TimeSpan.FromSeconds(10), Token);
        var next = listener.WorkAvailable;
        // Eager start: the run is its creator's worker's already, so no other worker is woken for it.
        await client.CreateRunAsync(new NewRun
        {
            RunId = "held", WorkflowName = "w", Input = "{}", CreatedAt = T0, Owner = "worker-b", LeaseExpiresAt = T0.AddSeconds(30),
        }, Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, Token);
        Assert.False(next.IsCompleted);
        var clock = Stopwatch.StartNew();
        await client.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, Token);
        await next.WaitAsync(TimeSpan.FromSeconds(5), Token);
        TestContext.Current.TestOutputHelper?.WriteLine($"notified {clock.Elapsed.TotalMilliseconds:0.0} ms after the insert began");

        var cancel = listener.WorkAvailable;
        var claim = Assert.Single(await client.ClaimRunsAsync(new ClaimRequest { Owner = "a", WorkflowNames = ["w"], MaxRuns = 1, Now = T0, LeaseExpiresAt = T0.AddSeconds(30) }, Token));
        Assert.Equal(CancelOutcome.Requested, await client.RequestCancelAsync(claim.Run.RunId, null, T0, Token));
        await cancel.WaitAsync(TimeSpan.FromSeconds(5), Token);
    }

    [Fact]
    public async Task WaitForCompletion_InAProcessWithoutTheWorker_IsToldWhenTheRunEnds_NotAtItsNextPoll()
    {
        // The waiting client has its own store (another process, as keel serve) and polls only every 30 s.
        await using var clientStore = _db.CreateStore();
        await clientStore.InitializeAsync(Token);
        var client = KeelClient.Create(clientStore, new KeelOptions { PollInterval = TimeSpan.FromSeconds(30) });
        await using var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(_db.ConnectionString, o => o.Schema = _db.Schema)
            .AddWorkflow<string, string>("wait", async (ctx, _) => await ctx.WaitForSignalAsync<string>("go")), cancellationToken: Token);
        await client.StartAsync("wait", "x", new StartWorkflowOptions { RunId = "w-1" }, Token);
        var waiting = client.WaitForCompletionAsync("w-1", Token);
        await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, Token); // its first read saw it unfinished

        var clock = Stopwatch.StartNew();
        await keel.Client.SignalAsync("w-1", "go", "done", Token);
        var run = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Token);
        TestContext.Current.TestOutputHelper?.WriteLine($"the waiter returned {clock.Elapsed.TotalMilliseconds:0} ms after the signal");
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal("\"done\"", run.Result);
    }

    [Fact]
    public async Task OutcomeThatPostgresRefusesForGood_FailsItsRunClearly_AndLeavesTheRunsBatchedWithItAlone()
    {
        await using var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(_db.ConnectionString, o => o.Schema = _db.Schema)
            .AddWorkflow<string, string>("named", async (ctx, name) => await ctx.StepAsync(name, _ => Task.FromResult(name))), cancellationToken: Token);
        // PostgreSQL text cannot hold NUL: the step's outcome can never be journaled.
        await keel.Client.StartAsync("named", "bad\0name", new StartWorkflowOptions { RunId = "bad" }, Token);
        for (var i = 0; i < 20; i++)
        {
            await keel.Client.StartAsync("named", $"good-{i}", new StartWorkflowOptions { RunId = $"good-{i}" }, Token);
        }
        var bad = await keel.Client.WaitForCompletionAsync("bad", Token);
        Assert.Equal(RunStatus.Failed, bad.Status);
        Assert.True(bad.Error!.IsTerminal);
        Assert.Contains("The store refused to record an outcome of this run", bad.StatusReason, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL refused a value", bad.Error.Message, StringComparison.Ordinal);
        Assert.Equal(0, bad.RecoveryAttempts); // failed at once, not released and claimed again and again
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"good-{i}", await keel.Client.GetResultAsync<string>($"good-{i}", Token));
        }
    }

    [Fact]
    public async Task Worker_RunsWorkflowsOnPostgres()
    {
        await using var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(_db.ConnectionString, o => o.Schema = _db.Schema)
            .AddWorkflow<int, int>("sum", async (ctx, n) =>
            {
                var total = 0;
                for (var i = 1; i <= n; i++)
                {
                    var step = i;
                    total += await ctx.StepAsync($"add-{step}", _ => Task.FromResult(step));
                }
                return total;
            }), cancellationToken: Token);
        var started = await keel.Client.StartAsync("sum", 5, new StartWorkflowOptions { RunId = "sum-5" }, Token);
        Assert.Equal(15, await keel.Client.GetResultAsync<int>(started.RunId, Token).WaitAsync(TimeSpan.FromSeconds(30), Token));
        var journal = await keel.Client.GetJournalAsync("sum-5", Token);
        Assert.Equal(JournalEntryKind.RunClaimed, journal[0].Kind); // the worker that ran it
        Assert.Equal(["add-1", "add-2", "add-3", "add-4", "add-5", "sum"], journal.Skip(1).Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), journal.Select(e => e.Index));
    }

    [Fact]
    public async Task CancelFromAnotherProcess_ReachesTheWorkerRunningTheRun()
    {
        var stepStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(_db.ConnectionString, o => o.Schema = _db.Schema)
            .AddWorkflow<int, int>("slow", (ctx, n) => ctx.StepAsync("wait", async sc =>
            {
                stepStarted.TrySetResult();
                await Task.Delay(TimeSpan.FromMinutes(5), TimeProvider.System, sc.CancellationToken);
                return n;
            })), cancellationToken: Token);
        await using var other = _db.CreateStore();
        var client = KeelClient.Create(other);
        var run = await client.StartAsync("slow", 1, cancellationToken: Token);
        await stepStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), Token);
        var clock = Stopwatch.StartNew();
        await client.CancelAsync(run.RunId, "not needed", Token);
        while ((await client.GetRunAsync(run.RunId, Token))!.Status != RunStatus.Cancelled)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the run was not cancelled within 10 s");
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, Token);
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"cancelled {clock.Elapsed.TotalMilliseconds:0} ms after the request (picked up at lease renewal)");
        var journal = await client.GetJournalAsync(run.RunId, Token);
        Assert.Equal(JournalEntryKind.RunCancelled, journal[^1].Kind);
    }

    [Fact]
    public async Task IdleWorker_WithLongPollInterval_ClaimsANewRunFromAnotherProcessWithinASecond()
    {
        await using var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(_db.ConnectionString, o => o.Schema = _db.Schema)
            .AddWorkflow<int, int>("echo", (ctx, n) => ctx.StepAsync("echo", _ => Task.FromResult(n)))
            .Configure(o => o.PollInterval = TimeSpan.FromSeconds(10)), cancellationToken: Token);
        // Another process: its own store and a client that knows no workflows, so nothing in-process wakes the worker.
        await using var other = _db.CreateStore();
        var client = KeelClient.Create(other);
        await ((PostgresWorkflowStore)keel.Store).Listening.WaitAsync(TimeSpan.FromSeconds(10), Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, Token); // the worker is idle in its 10 s wait

        var latencies = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var run = await client.StartAsync("echo", i, cancellationToken: Token);
            // Poll every few ms here (the client's own wait polls at its PollInterval, which would blur the number).
            while ((await client.GetRunAsync(run.RunId, Token))!.Status != RunStatus.Completed)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the run did not complete within 5 s");
                await Task.Delay(TimeSpan.FromMilliseconds(3), TimeProvider.System, Token);
            }
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, Token);
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"start-to-completed: {string.Join(", ", latencies.Select(l => $"{l:0} ms"))}");
        Assert.All(latencies, l => Assert.True(l < 1000, $"a run took {l:0} ms to complete; the wake-up should bring it in well under 1 s"));
    }

    [Fact]
    public async Task SignalFromAnotherProcess_WakesAReleasedRun_AndReachesAHeldOne_WellBeforeThePollInterval()
    {
        // Poll and lease renewal are 10 s apart: only LISTEN/NOTIFY can bring the signals in under a second.
        await using var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(_db.ConnectionString, o => o.Schema = _db.Schema)
            .AddWorkflow<int, string>("released", async (ctx, _) => await ctx.WaitForSignalAsync<string>("go"))
            .AddWorkflow<int, string>("held", async (ctx, _) =>
            {
                // The step keeps the run in memory while it waits for the signal.
                var busy = ctx.StepAsync("busy", async sc =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System, sc.CancellationToken);
                    return 1;
                });
                var signal = await ctx.WaitForSignalAsync<string>("go");
                await busy;
                return signal;
            })
            .Configure(o =>
            {
                o.PollInterval = TimeSpan.FromSeconds(10);
                o.LeaseRenewInterval = TimeSpan.FromSeconds(10);
            }), cancellationToken: Token);
        await using var other = _db.CreateStore();
        var client = KeelClient.Create(other);
        await ((PostgresWorkflowStore)keel.Store).Listening.WaitAsync(TimeSpan.FromSeconds(10), Token);

        var released = await client.StartAsync("released", 0, cancellationToken: Token);
        while ((await client.GetRunAsync(released.RunId, Token)) is not { Status: RunStatus.Waiting, Owner: null })
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, Token);
        }
        var clock = Stopwatch.StartNew();
        await client.SignalAsync(released.RunId, "go", "now", Token);
        while ((await client.GetRunAsync(released.RunId, Token))!.Status != RunStatus.Completed)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the released run did not complete within 5 s of its signal");
            await Task.Delay(TimeSpan.FromMilliseconds(3), TimeProvider.System, Token);
        }
        var wake = clock.Elapsed;

        var held = await client.StartAsync("held", 0, cancellationToken: Token);
        while ((await client.GetRunAsync(held.RunId, Token)) is not { Status: RunStatus.Running, Owner: not null })
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, Token);
        }
        await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, Token);
        clock.Restart();
        await client.SignalAsync(held.RunId, "go", "here", Token);
        while (!(await client.GetJournalAsync(held.RunId, Token)).Any(e => e.Kind == JournalEntryKind.SignalReceived))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the held run did not take its signal within 5 s");
            await Task.Delay(TimeSpan.FromMilliseconds(3), TimeProvider.System, Token);
        }
        var reach = clock.Elapsed;
        Assert.Equal("here", await client.GetResultAsync<string>(held.RunId, Token));
        TestContext.Current.TestOutputHelper?.WriteLine($"signal to completed (released run): {wake.TotalMilliseconds:0} ms; signal journaled (held run): {reach.TotalMilliseconds:0} ms");
        Assert.True(wake < TimeSpan.FromSeconds(1), $"the released run took {wake.TotalMilliseconds:0} ms");
        Assert.True(reach < TimeSpan.FromSeconds(1), $"the held run took {reach.TotalMilliseconds:0} ms");
    }
}
