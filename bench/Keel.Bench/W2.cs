using System.Diagnostics;
using System.Text.Json.Nodes;
using Keel.Sqlite;
using Keel.Storage;

namespace Keel.Bench;

/// <summary>W2: 1,000 runs of 10 steps each, started together: throughput and peak memory.</summary>
internal static class W2
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("KEEL_BENCH_SAMPLE_MS"), out var ms) ? ms : 1000);

    public static async Task RunAsync(BenchOptions options, string dataDir, JsonObject result, JsonObject settings)
    {
        var runs = options.Runs ?? 1000;
        var steps = options.Steps ?? 10;
        var repetitions = options.Repetitions ?? 3;
        var db = Path.Combine(dataDir, "w2.db");
        var keelOptions = new KeelOptions();

        // The store is wrapped only to count calls (GetRunAsync shows what the client's waiters cost).
        var counting = new TimingStore(new SqliteWorkflowStore(new SqliteStoreOptions { Path = db, Durability = options.Durability }), Stopwatch.StartNew(), null);
        await using var keel = await KeelHost.StartAsync(k => k
            .UseStore(_ => counting)
            .AddWorkflow<int, int>("w2", async (ctx, n) =>
            {
                var sum = 0;
                for (var i = 1; i <= n; i++)
                {
                    var index = i;
                    sum += await ctx.StepAsync($"s{index}", _ => Task.FromResult(index));
                }
                return sum;
            }));
        var store = (SqliteWorkflowStore)counting.Inner;

        // Unmeasured passes first: the JIT tiers up (a short run otherwise measures QuickJitted code).
        var passes = new List<Pass>();
        const int warmupPasses = 2;
        for (var p = 1 - warmupPasses; p <= repetitions; p++)
        {
            var pass = await RunPassAsync(keel, store, counting, db, runs, steps, options.Wait, p <= 0 ? "warm-up" : $"pass {p}/{repetitions}");
            if (p > 0)
            {
                passes.Add(pass);
            }
        }
        var median = passes.OrderBy(x => x.WallS).ElementAt(passes.Count / 2);

        // The floor: the store alone (no engine), 200 leases appending one entry each, concurrently, for as many appends.
        var storeOnly = await StoreOnlyAppendsPerSecondAsync(Path.Combine(dataDir, "w2-store.db"), options.Durability, 200, runs * steps);
        BenchUtil.Log($"w2 store alone (no engine): {storeOnly.PerSecond:F0} appends/s with 200 concurrent runs appending one entry each, cpu {storeOnly.CpuUsPerAppend:F0} us/append");

        result["wall_s"] = BenchUtil.Round(median.WallS, 3);
        result["runs_per_s"] = BenchUtil.Round(runs / median.WallS);
        result["steps_per_s"] = BenchUtil.Round(runs * steps / median.WallS);
        result["peak_rss_mb"] = BenchUtil.Round(BenchUtil.PeakRssMb());
        result["detail"] = new JsonObject
        {
            ["wait"] = options.Wait,
            ["wall_s_all"] = new JsonArray([.. passes.Select(x => (JsonNode)BenchUtil.Round(x.WallS, 3))]),
            ["start_all_ms"] = BenchUtil.Round(median.StartMs),
            ["commits"] = median.Commits,
            ["journal_appends_per_commit"] = BenchUtil.Round(runs * (steps + 1.0) / Math.Max(1, median.Commits), 1),
            ["cpu_s"] = BenchUtil.Round(median.CpuS, 3),
            ["append_calls"] = median.AppendCalls,
            ["claim_calls"] = median.ClaimCalls,
            ["get_run_calls"] = median.GetRunCalls,
            ["cpu_us_per_step"] = BenchUtil.Round(median.CpuS * 1e6 / (runs * steps)),
            ["store_only_appends_per_s"] = BenchUtil.Round(storeOnly.PerSecond),
            ["store_only_cpu_us_per_append"] = BenchUtil.Round(storeOnly.CpuUsPerAppend),
        };
        settings["runs"] = runs;
        settings["steps"] = steps;
        settings["max_concurrent_runs"] = keelOptions.MaxConcurrentRuns;
        settings["warmup_passes"] = warmupPasses;
        settings["repetitions"] = repetitions;
    }

    private sealed record Pass(double WallS, double StartMs, long Commits, double CpuS, long GetRunCalls, long AppendCalls, long ClaimCalls);

    private static async Task<Pass> RunPassAsync(KeelHost keel, SqliteWorkflowStore store, TimingStore counting, string db, int runs, int steps, string wait, string label)
    {
        using var raw = BenchUtil.OpenRaw(db);
        var finishedBefore = BenchUtil.Scalar(raw, "SELECT count(*) FROM runs WHERE status IN ('Completed', 'Failed', 'Cancelled', 'Blocked')");
        var commitsBefore = store.Commits;
        var (getRunBefore, appendBefore, claimBefore) = (counting.GetRunCalls, counting.AppendCalls, counting.ClaimCalls);
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var started = await Task.WhenAll(Enumerable.Range(0, runs).Select(_ => keel.Client.StartAsync("w2", steps)));
        var startMs = sw.Elapsed.TotalMilliseconds;
        using var sampler = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            using var sampleDb = BenchUtil.OpenRaw(db);
            while (!sampler.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(SampleInterval, TimeProvider.System, sampler.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var done = BenchUtil.Scalar(sampleDb, "SELECT count(*) FROM runs WHERE status = 'Completed'") - finishedBefore;
                BenchUtil.Log($"w2 {label} {sw.Elapsed.TotalSeconds:F1} s: {done}/{runs} completed, worker active {keel.Worker?.ActiveRuns}, " +
                              $"commits {store.Commits - commitsBefore}, rss {BenchUtil.CurrentRssMb():F0} MB");
            }
        });
        if (wait == "poll")
        {
            // Waits without the client's per-run waiters: one count query every 5 ms.
            while (BenchUtil.Scalar(raw, "SELECT count(*) FROM runs WHERE status IN ('Completed', 'Failed', 'Cancelled', 'Blocked')") < finishedBefore + runs)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
            }
        }
        else
        {
            var finished = await Task.WhenAll(started.Select(s => keel.Client.WaitForCompletionAsync(s.RunId)));
            var notCompleted = finished.Count(r => r.Status != RunStatus.Completed);
            if (notCompleted > 0)
            {
                BenchUtil.Log($"w2 WARNING: {notCompleted} runs did not complete");
            }
        }
        var wall = sw.Elapsed.TotalSeconds;
        var cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        await sampler.CancelAsync();
        await progress;
        var pass = new Pass(wall, startMs, store.Commits - commitsBefore, cpu,
            counting.GetRunCalls - getRunBefore, counting.AppendCalls - appendBefore, counting.ClaimCalls - claimBefore);
        BenchUtil.Log($"w2 {label}: {runs} runs x {steps} steps in {wall:F3} s = {runs * steps / wall:F0} steps/s; start-all {startMs:F0} ms; " +
                      $"{pass.Commits} commits, {pass.AppendCalls} appends, {pass.ClaimCalls} claims, {pass.GetRunCalls} GetRunAsync; cpu {cpu:F2} s ({cpu * 1e6 / (runs * steps):F0} us/step); rss {BenchUtil.CurrentRssMb():F0} MB");
        return pass;
    }

    /// <summary>Appends through the store API alone: <paramref name="concurrency"/> claimed runs, each appending one entry at a time.</summary>
    private static async Task<(double PerSecond, double CpuUsPerAppend)> StoreOnlyAppendsPerSecondAsync(string db, SqliteDurability durability, int concurrency, int total)
    {
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db, Durability = durability });
        await store.InitializeAsync();
        var now = TimeProvider.System.GetUtcNow();
        for (var i = 0; i < concurrency; i++)
        {
            await store.CreateRunAsync(new NewRun { RunId = $"s{i}", WorkflowName = "w", Input = "0", Priority = 0, CreatedAt = now });
        }
        var claimed = new List<ClaimedRun>();
        while (claimed.Count < concurrency)
        {
            var t = TimeProvider.System.GetUtcNow();
            claimed.AddRange(await store.ClaimRunsAsync(new ClaimRequest
            {
                Owner = "bench", WorkflowNames = ["w"], MaxRuns = 100, Now = t, LeaseExpiresAt = t.AddMinutes(5),
            }));
        }
        var perRun = total / concurrency;
        async Task AppendLoopAsync(ClaimedRun run)
        {
            for (var s = 1; s <= perRun; s++)
            {
                var entry = new JournalEntry
                {
                    Sequence = s, Kind = JournalEntryKind.StepCompleted, Name = "s", Attempt = 1,
                    StartedAt = TimeProvider.System.GetUtcNow(), RecordedAt = TimeProvider.System.GetUtcNow(), Payload = "1",
                };
                if (!await store.AppendAsync(run.Lease, [entry], null))
                {
                    throw new InvalidOperationException("lease lost");
                }
            }
        }
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(claimed.Select(AppendLoopAsync));
        var cpu = self.TotalProcessorTime - cpuBefore;
        return (perRun * concurrency / sw.Elapsed.TotalSeconds, cpu.TotalMilliseconds * 1000 / (perRun * concurrency));
    }
}
