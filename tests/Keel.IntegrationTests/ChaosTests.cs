using Keel.Postgres;
using Keel.Sqlite;
using Keel.Testing;
using Keel.TestWorker;
using Npgsql;

namespace Keel.IntegrationTests;

/// <summary>
/// The chaos harness against real worker processes: SIGKILLs every 200–800 ms under a mixed workload (SQLite, and
/// PostgreSQL with two workers), poison runs that bring their worker down (a step body, workflow code on replay), and a
/// worker SIGSTOPped past its lease. The harness checks the invariants from the body ledger and the journals; a healthy
/// run must never be quarantined, and a stopped worker must start nothing of a run another worker took over.
/// </summary>
[Collection(nameof(ChaosTests))]
public sealed class ChaosTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public async Task Churn_OnSqlite_SigkillEvery200To800Ms_EveryRunCompletes_AndTheInvariantsHold()
    {
        var scratch = await CrashScratch.CreateAsync("keel-chaos-sqlite-", Token);
        var (ledger, outbox) = Dirs(scratch);
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = scratch.Db });
        var report = await ChaosHarness.RunAsync(new ChaosOptions
        {
            Client = KeelClient.Create(store),
            StartWorker = i => WorkerProcess.StartInfo(["--db", scratch.Db, "--effects", scratch.Effects, "--outbox", outbox]),
            LedgerDirectory = ledger,
            Kills = 25,
            Workload = ChaosWorkloads.Mixed(runs: 40, batches: 8, spacing: TimeSpan.FromSeconds(1.5), ticks: 10),
            Operator = ChaosWorkloads.OutboxOperator(outbox),
            SettleTimeout = TimeSpan.FromSeconds(45),
            Seed = scratch.Seed,
            Log = Log,
        }, Token);

        AssertHealthy(report, parents: 40);
        Assert.True(report.Kills >= 25);
        scratch.Delete();
    }

    [Fact]
    public async Task Churn_OnPostgres_TwoWorkers_OneSigkilledAtATime_EveryRunCompletes_AndTheInvariantsHold()
    {
        var scratch = await CrashScratch.CreateAsync("keel-chaos-pg-", Token);
        var (ledger, outbox) = Dirs(scratch);
        await using var pg = new PostgresScratch("keel_chaos_");
        await pg.Store.InitializeAsync(Token);
        var report = await ChaosHarness.RunAsync(new ChaosOptions
        {
            Client = KeelClient.Create(pg.Store),
            Workers = 2,
            StartWorker = i => WorkerProcess.StartInfo([.. pg.WorkerArgs, "--effects", scratch.Effects + i, "--outbox", outbox, "--poll-ms", "50"]),
            LedgerDirectory = ledger,
            Kills = 15,
            Workload = ChaosWorkloads.Mixed(runs: 24, batches: 6, spacing: TimeSpan.FromSeconds(1.5), ticks: 10),
            Operator = ChaosWorkloads.OutboxOperator(outbox),
            SettleTimeout = TimeSpan.FromSeconds(45),
            Seed = scratch.Seed,
            Log = Log,
        }, Token);

        AssertHealthy(report, parents: 24);
        Assert.True(report.Kills >= 15);
        scratch.Delete();
    }

    [Fact]
    public async Task Poison_StepBodyFailFastsEveryTime_IsQuarantinedNamingTheStep_AndEveryHealthyRunCompletes()
    {
        const int maxRecovery = 5; // the default
        var scratch = await CrashScratch.CreateAsync("keel-chaos-poison-", Token);
        var (ledger, outbox) = Dirs(scratch);
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = scratch.Db });
        var healthy = ChaosWorkloads.Mixed(runs: 30, batches: 1, spacing: TimeSpan.Zero);
        var report = await ChaosHarness.RunAsync(new ChaosOptions
        {
            Client = KeelClient.Create(store),
            StartWorker = i => WorkerProcess.StartInfo(["--db", scratch.Db, "--effects", scratch.Effects, "--outbox", outbox]),
            LedgerDirectory = ledger,
            Workload = async ctx =>
            {
                await ctx.Client.StartAsync(PoisonFlows.Step, 7, new StartWorkflowOptions { AllowUnknownWorkflow = true, RunId = "poison" }, ctx.CancellationToken);
                await healthy(ctx);
            },
            Operator = ChaosWorkloads.OutboxOperator(outbox),
            IsExpectedPoison = r => r.WorkflowName == PoisonFlows.Step,
            AllowWorkerExits = true, // the poison's: the worker is restarted whenever it exits, as a supervisor would
            SettleTimeout = TimeSpan.FromSeconds(60),
            Seed = scratch.Seed,
            Log = Log,
        }, Token);

        var poison = AssertPoisonQuarantined(report, healthyParents: 30);
        Assert.Contains("step 'explode' (position 2, attempt 1) ran", poison.StatusReason, StringComparison.Ordinal);
        var explosions = report.Bodies.Count(b => b.RunId == "poison" && b.StepName == "explode");
        Log($"the poison's body ran {explosions} times; {report.WorkerExits} worker exits");
        Assert.InRange(explosions, maxRecovery, maxRecovery + 2);
        Assert.Equal(explosions, report.WorkerExits);
        scratch.Delete();
    }

    [Fact]
    public async Task Poison_WorkflowCodeFailFastsOnReplay_IsQuarantinedNamingTheReplay_AndEveryHealthyRunCompletes()
    {
        const int maxRecovery = 3;
        var scratch = await CrashScratch.CreateAsync("keel-chaos-poison-replay-", Token);
        var (ledger, outbox) = Dirs(scratch);
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = scratch.Db });
        var healthy = ChaosWorkloads.Mixed(runs: 12, batches: 3, spacing: TimeSpan.FromSeconds(2));
        var report = await ChaosHarness.RunAsync(new ChaosOptions
        {
            Client = KeelClient.Create(store),
            StartWorker = i => WorkerProcess.StartInfo(["--db", scratch.Db, "--effects", scratch.Effects, "--outbox", outbox,
                "--max-recovery", maxRecovery.ToString(System.Globalization.CultureInfo.InvariantCulture)]),
            LedgerDirectory = ledger,
            Workload = async ctx =>
            {
                await ctx.Client.StartAsync(PoisonFlows.Replay, 7, new StartWorkflowOptions { AllowUnknownWorkflow = true, RunId = "poison" }, ctx.CancellationToken);
                await healthy(ctx);
            },
            Operator = ChaosWorkloads.OutboxOperator(outbox),
            IsExpectedPoison = r => r.WorkflowName == PoisonFlows.Replay,
            AllowWorkerExits = true,
            SettleTimeout = TimeSpan.FromSeconds(60),
            Seed = scratch.Seed,
            Log = Log,
        }, Token);

        var poison = AssertPoisonQuarantined(report, healthyParents: 12);
        Assert.Contains("was replayed or its workflow code ran", poison.StatusReason, StringComparison.Ordinal);
        Log($"{report.WorkerExits} worker exits");
        Assert.InRange(report.WorkerExits, maxRecovery, maxRecovery + 2);
        // Its step ran once, live; every later execution died in the replay before it could run anything.
        Assert.Single(report.Bodies, b => b.RunId == "poison");
        scratch.Delete();
    }

    [Fact]
    public async Task StaleWorker_OnPostgres_SigstoppedPastItsLease_StartsNoBodyOfARunTheOtherTookOver()
    {
        var scratch = await CrashScratch.CreateAsync("keel-chaos-stale-", Token);
        var (ledger, _) = Dirs(scratch);
        await using var pg = new PostgresScratch("keel_stale_");
        await pg.Store.InitializeAsync(Token);
        var client = KeelClient.Create(pg.Store);
        var report = await ChaosHarness.RunAsync(new ChaosOptions
        {
            Client = client,
            Workers = 2,
            // At most 6 runs each: both workers hold runs, whichever is stopped.
            StartWorker = i => WorkerProcess.StartInfo([.. pg.WorkerArgs, "--effects", scratch.Effects + i, "--lease-ms", "2000", "--poll-ms", "50", "--max-runs", "6"]),
            LedgerDirectory = ledger,
            Stops = 3,
            StopFor = TimeSpan.FromSeconds(3.5), // past the 2 s lease: the other worker takes the stopped one's runs over
            MinInterval = TimeSpan.FromMilliseconds(800),
            MaxInterval = TimeSpan.FromMilliseconds(1500),
            Workload = async ctx =>
            {
                // Runs of short sequential steps that fail now and then and are retried soon, a few new ones every half
                // second while the stops go on: the stopped worker holds some of them, mid-step or with a retry due.
                var runIds = new List<string>();
                for (var batch = 0; batch == 0 || ctx.IsChaosRunning; batch++)
                {
                    for (var i = 0; i < 4; i++)
                    {
                        var runId = $"stale-{batch:00}-{i}";
                        await ctx.Client.StartAsync("flaky-flow", new { steps = 40, seed = batch * 10 + i }, new StartWorkflowOptions { AllowUnknownWorkflow = true, RunId = runId }, ctx.CancellationToken);
                        runIds.Add(runId);
                    }
                    await Task.WhenAny(ctx.ChaosEnded, Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, ctx.CancellationToken));
                }
                while (!await ChaosWorkloads.AllEndedAsync(ctx.Client, runIds, ctx.CancellationToken))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, ctx.CancellationToken);
                }
            },
            SettleTimeout = TimeSpan.FromSeconds(60),
            Seed = scratch.Seed,
            Log = Log,
        }, Token);

        Log(report.ToString());
        foreach (var violation in report.Violations)
        {
            Log("  " + violation);
        }
        Assert.True(report.Holds, string.Join(Environment.NewLine, report.Violations));
        Assert.Equal(3, report.Stops);
        Assert.Equal(report.Runs, report.RunsCompleted);
        Assert.Equal(0, report.CompletedStepReruns);
        Assert.Equal(0, report.StaleBodyStarts);

        // The plain form of the invariant, per stop: once the other worker started a body of a run after the SIGSTOP, the
        // stopped worker starts no body of that run until the next stop (no test run waits, so none is handed back).
        var stops = report.Events.Where(e => e.Kind == ChaosEventKind.Stop).ToList();
        var takeovers = 0;
        for (var s = 0; s < stops.Count; s++)
        {
            var stop = stops[s];
            var end = s + 1 < stops.Count ? stops[s + 1].At : DateTimeOffset.MaxValue;
            foreach (var run in report.Bodies.Where(b => b.At >= stop.At && b.At < end).GroupBy(b => b.RunId))
            {
                var firstOther = run.Where(b => b.ProcessId != stop.ProcessId).Select(b => (DateTimeOffset?)b.At).Min();
                if (firstOther is null)
                {
                    continue;
                }
                if (report.Bodies.Any(b => b.RunId == run.Key && b.ProcessId == stop.ProcessId && b.At < stop.At))
                {
                    takeovers++; // a run the stopped worker had been running, continued by the other
                }
                var late = run.Where(b => b.ProcessId == stop.ProcessId && b.At > firstOther).ToList();
                Assert.True(late.Count == 0, $"stop {s + 1}: pid {stop.ProcessId} started {late.Count} body(ies) of {run.Key} after pid " +
                    $"{run.First(b => b.ProcessId != stop.ProcessId).ProcessId} took it over, first {late.FirstOrDefault()}");
            }
        }
        Log($"{takeovers} run(s) taken over from a stopped worker across {stops.Count} stops");
        Assert.True(takeovers > 0, "no run was taken over from a stopped worker; the test proves nothing");
        scratch.Delete();
    }

    private static RunInfo AssertPoisonQuarantined(ChaosReport report, int healthyParents)
    {
        Log(report.ToString());
        foreach (var violation in report.Violations)
        {
            Log("  " + violation);
        }
        Assert.True(report.Holds, string.Join(Environment.NewLine, report.Violations));
        var poison = Assert.Single(report.FinalRuns, r => r.RunId == "poison");
        Log($"poison: {poison.Status}, {poison.RecoveryAttempts} recovery attempts: {poison.StatusReason}");
        Assert.Equal(RunStatus.Blocked, poison.Status);
        Assert.Equal(1, report.RunsQuarantined);
        Assert.Equal(2 * healthyParents + 1, report.Runs);
        Assert.Equal(2 * healthyParents, report.RunsCompleted);
        Assert.Equal(0, report.CompletedStepReruns);
        Assert.Equal(0, report.AtMostOnceDuplicates);
        Assert.Equal(0, report.IdempotentKeyMismatches);
        Assert.Equal(0, report.MissingEffects);
        return poison;
    }

    private static void AssertHealthy(ChaosReport report, int parents)
    {
        Log(report.ToString());
        foreach (var violation in report.Violations)
        {
            Log("  " + violation);
        }
        Assert.True(report.Holds, string.Join(Environment.NewLine, report.Violations));
        Assert.Equal(2 * parents, report.Runs); // each with its child
        Assert.Equal(report.Runs, report.RunsCompleted);
        Assert.Equal(0, report.RunsQuarantined);
        Assert.Equal(0, report.CompletedStepReruns);
        Assert.Equal(0, report.AtMostOnceDuplicates);
        Assert.Equal(0, report.IdempotentKeyMismatches);
        Assert.Equal(0, report.MissingEffects);
    }

    private static (string Ledger, string Outbox) Dirs(CrashScratch scratch)
    {
        var outbox = Directory.CreateDirectory(Path.Combine(scratch.Dir.FullName, "outbox")).FullName;
        return (Path.Combine(scratch.Dir.FullName, "ledger"), outbox);
    }
}

/// <summary>The chaos tests run one at a time, after the other classes: their kill timing needs the cores.</summary>
[CollectionDefinition(nameof(ChaosTests), DisableParallelization = true)]
public sealed class ChaosTestsRunAlone;
