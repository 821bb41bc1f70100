using System.Diagnostics;
using System.Text.Json.Nodes;
using Keel.Storage;

namespace Keel.Bench;

/// <summary>W2: 1,000 runs of 10 steps each, started together: throughput and peak memory.</summary>
internal static class W2
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("KEEL_BENCH_SAMPLE_MS"), out var ms) ? ms : 1000);

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        var runs = options.Runs ?? 1000;
        var steps = options.Steps ?? 10;
        var repetitions = options.Repetitions ?? 5;
        var workers = options.Workers ?? 1;
        var keelOptions = new KeelOptions();
        if (workers > 1 && !target.IsPostgres)
        {
            throw new ArgumentException("--workers > 1 needs --store postgres (SQLite is one process's store).");
        }

        // The store is wrapped only to count calls (GetRunAsync shows what the client's waiters cost).
        var counting = new TimingStore(target.CreateStore(), Stopwatch.StartNew(), null);
        KeelHost? keel = null;
        var children = new List<Process>();
        KeelClient client;
        var wait = options.Wait;
        try
        {
            if (workers == 1)
            {
                keel = await KeelHost.StartAsync(k => k.UseStore(_ => counting).Configure(o => BenchTarget.ApplyLease(o, options)).AddWorkflow<int, int>("w2", WorkflowAsync));
                client = keel.Client;
            }
            else
            {
                // Client-only parent; the work is done by child worker processes sharing the database.
                await counting.InitializeAsync();
                client = KeelClient.Create(counting);
                // A client in another process than the workers learns of completions by polling (PollInterval): count instead.
                wait = "poll";
                var ready = new List<Task>();
                for (var w = 1; w <= workers; w++)
                {
                    var name = $"worker{w}";
                    var readySignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    ready.Add(readySignal.Task);
                    children.Add(BenchUtil.StartSelf(["w2-worker", .. target.ChildArgs(), .. LeaseArgs(options)], line =>
                    {
                        if (line.StartsWith("READY", StringComparison.Ordinal))
                        {
                            readySignal.TrySetResult();
                        }
                        BenchUtil.Log($"  {name} | {line}");
                    }));
                }
                await Task.WhenAll(ready).WaitAsync(TimeSpan.FromMinutes(2), TimeProvider.System);
                BenchUtil.Log($"w2 {workers} worker processes ready (pids {string.Join(", ", children.Select(c => c.Id))})");
            }
            var store = counting.Inner;

            // Unmeasured passes first: W2 measures a worker at steady state, once the JIT has tiered up its hot paths
            // (a pass of ~1 s otherwise measures partly unoptimized code). The first pass is reported apart, as "cold".
            var passes = new List<Pass>();
            var warmupPasses = options.Warmup ?? 5;
            Pass? cold = null;
            long? deadlocksBefore = null;
            for (var p = 1 - warmupPasses; p <= repetitions; p++)
            {
                var pass = await RunPassAsync(client, keel, children, store, counting, target, runs, steps, wait, p <= 0 ? "warm-up" : $"pass {p}/{repetitions}");
                cold ??= pass;
                if (p > 0)
                {
                    passes.Add(pass);
                }
                if (p == 0)
                {
                    deadlocksBefore = target.Deadlocks();
                }
            }
            var median = passes.OrderBy(x => x.WallS).ElementAt(passes.Count / 2);
            await Task.Delay(TimeSpan.FromMilliseconds(1500), TimeProvider.System); // the server publishes its statistics about once a second
            var deadlocks = target.Deadlocks() - deadlocksBefore;
            if (deadlocks is not null)
            {
                BenchUtil.Log($"w2 deadlocks detected by the server during the {repetitions} measured passes: {deadlocks}");
            }
            // Peak RSS: of this process with one worker; the largest child's with several (the parent only starts runs).
            var peakRss = workers == 1 ? BenchUtil.PeakRssMb() : children.Max(c => BenchUtil.PeakRssMb(c.Id));
            var childPeaks = children.Select(c => (JsonNode)BenchUtil.Round(BenchUtil.PeakRssMb(c.Id))).ToArray();
            await StopChildrenAsync(children);

            // The floor: the store alone (no engine), 200 leases appending one entry each, concurrently, for as many appends.
            var storeOnly = await StoreOnlyAppendsPerSecondAsync(target.Sibling("floor"), 200, runs * steps);
            BenchUtil.Log($"w2 store alone (no engine): {storeOnly.PerSecond:F0} appends/s with 200 concurrent runs appending one entry each, cpu {storeOnly.CpuUsPerAppend:F0} us/append");

            result["wall_s"] = BenchUtil.Round(median.WallS, 3);
            result["runs_per_s"] = BenchUtil.Round(runs / median.WallS);
            result["steps_per_s"] = BenchUtil.Round(runs * steps / median.WallS);
            result["peak_rss_mb"] = BenchUtil.Round(peakRss);
            result["detail"] = new JsonObject
            {
                ["wait"] = wait,
                ["workers"] = workers,
                ["wall_s_all"] = new JsonArray([.. passes.Select(x => (JsonNode)BenchUtil.Round(x.WallS, 3))]),
                ["cold_pass_steps_per_s"] = BenchUtil.Round(runs * steps / cold!.WallS),
                ["start_all_ms"] = BenchUtil.Round(median.StartMs),
                // With worker processes the appends happen in the children: their commits are not visible here.
                ["commits"] = workers == 1 ? median.Commits : null,
                ["commits_note"] = target.IsPostgres ? "PostgresWorkflowStore.AppendBatches: group-commit round trips (appends only)" : "SqliteWorkflowStore.Commits",
                ["journal_appends_per_commit"] = workers == 1 ? BenchUtil.Round(runs * (steps + 1.0) / Math.Max(1, median.Commits), 1) : null,
                ["cpu_s"] = BenchUtil.Round(median.CpuS, 3),
                ["cpu_note"] = workers == 1 ? "this process" : "parent + worker processes",
                ["append_calls"] = workers == 1 ? median.AppendCalls : null,
                ["claim_calls"] = workers == 1 ? median.ClaimCalls : null,
                ["get_run_calls"] = median.GetRunCalls,
                ["cpu_us_per_step"] = BenchUtil.Round(median.CpuS * 1e6 / (runs * steps)),
                // Of this process only (with worker processes: the parent's, which only starts and waits).
                ["allocated_bytes_per_step"] = passes.Select(x => x.AllocatedBytes).Order().ElementAt(passes.Count / 2) / (runs * steps),
                ["store_only_appends_per_s"] = BenchUtil.Round(storeOnly.PerSecond),
                ["store_only_cpu_us_per_append"] = BenchUtil.Round(storeOnly.CpuUsPerAppend),
                ["deadlocks_measured_passes"] = deadlocks,
                ["worker_peak_rss_mb"] = workers == 1 ? null : new JsonArray(childPeaks),
                ["parent_peak_rss_mb"] = workers == 1 ? null : BenchUtil.Round(BenchUtil.PeakRssMb()),
            };
            settings["runs"] = runs;
            settings["steps"] = steps;
            settings["workers"] = workers;
            settings["max_concurrent_runs"] = keelOptions.MaxConcurrentRuns;
            settings["lease_duration_ms"] = options.LeaseMs ?? (int)keelOptions.LeaseDuration.TotalMilliseconds;
            settings["lease_renew_interval_ms"] = options.LeaseMs is { } l ? Math.Max(100, l / 4) : (int)keelOptions.LeaseRenewInterval.TotalMilliseconds;
            settings["warmup_passes"] = warmupPasses;
            settings["repetitions"] = repetitions;
        }
        finally
        {
            await StopChildrenAsync(children);
            if (keel is not null)
            {
                await keel.DisposeAsync();
            }
            else
            {
                await counting.DisposeAsync();
            }
        }
    }

    private static async Task<int> WorkflowAsync(WorkflowContext ctx, int n)
    {
        var sum = 0;
        for (var i = 1; i <= n; i++)
        {
            var index = i;
            sum += await ctx.StepAsync($"s{index}", _ => Task.FromResult(index));
        }
        return sum;
    }

    private static string[] LeaseArgs(BenchOptions options) =>
        options.LeaseMs is { } lease ? ["--lease-ms", lease.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];

    private static async Task StopChildrenAsync(List<Process> children)
    {
        foreach (var child in children)
        {
            try
            {
                child.StandardInput.Close(); // graceful stop
            }
            catch (IOException)
            {
            }
        }
        foreach (var child in children)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                BenchUtil.KillHard(child);
            }
            child.Dispose();
        }
        children.Clear();
    }

    /// <summary>A W2 worker child: runs w2 runs from the shared database until stdin closes.</summary>
    public static async Task<int> WorkerAsync(BenchOptions options)
    {
        var target = BenchTarget.FromChildOptions(options);
        await using var keel = await KeelHost.StartAsync(k => k.UseStore(_ => target.CreateStore()).Configure(o => BenchTarget.ApplyLease(o, options)).AddWorkflow<int, int>("w2", WorkflowAsync));
        Console.WriteLine("READY");
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line == "stop")
            {
                break;
            }
        }
        await keel.StopAsync();
        return 0;
    }

    private sealed record Pass(double WallS, double StartMs, long Commits, double CpuS, long GetRunCalls, long AppendCalls, long ClaimCalls, long AllocatedBytes);

    private static TimeSpan CpuOf(IEnumerable<Process> children)
    {
        using var self = Process.GetCurrentProcess();
        var total = self.TotalProcessorTime;
        foreach (var child in children)
        {
            child.Refresh();
            total += child.TotalProcessorTime;
        }
        return total;
    }

    private static async Task<Pass> RunPassAsync(KeelClient client, KeelHost? keel, List<Process> children, IWorkflowStore store, TimingStore counting,
        BenchTarget target, int runs, int steps, string wait, string label)
    {
        const string finishedSql = "SELECT count(*) FROM runs WHERE status IN ('Completed', 'Failed', 'Cancelled', 'Blocked')";
        using var raw = target.OpenRaw();
        var finishedBefore = BenchTarget.Scalar(raw, finishedSql);
        var commitsBefore = BenchTarget.Commits(store);
        var (getRunBefore, appendBefore, claimBefore) = (counting.GetRunCalls, counting.AppendCalls, counting.ClaimCalls);
        var cpuBefore = CpuOf(children);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        var started = await Task.WhenAll(Enumerable.Range(0, runs).Select(_ => client.StartAsync("w2", steps)));
        var startMs = sw.Elapsed.TotalMilliseconds;
        using var sampler = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            using var sampleDb = target.OpenRaw();
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
                var done = BenchTarget.Scalar(sampleDb, "SELECT count(*) FROM runs WHERE status = 'Completed'") - finishedBefore;
                BenchUtil.Log($"w2 {label} {sw.Elapsed.TotalSeconds:F1} s: {done}/{runs} completed, worker active {keel?.Worker?.ActiveRuns}, " +
                              $"commits {BenchTarget.Commits(store) - commitsBefore}, rss {BenchUtil.CurrentRssMb():F0} MB");
            }
        });
        if (wait == "poll")
        {
            // Waits without the client's per-run waiters: one count query every 5 ms.
            while (await BenchTarget.ScalarAsync(raw, finishedSql) < finishedBefore + runs)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
            }
        }
        else
        {
            var finished = await Task.WhenAll(started.Select(s => client.WaitForCompletionAsync(s.RunId)));
            var notCompleted = finished.Count(r => r.Status != RunStatus.Completed);
            if (notCompleted > 0)
            {
                BenchUtil.Log($"w2 WARNING: {notCompleted} runs did not complete");
            }
        }
        var wall = sw.Elapsed.TotalSeconds;
        var cpu = (CpuOf(children) - cpuBefore).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await sampler.CancelAsync();
        await progress;
        var pass = new Pass(wall, startMs, BenchTarget.Commits(store) - commitsBefore, cpu,
            counting.GetRunCalls - getRunBefore, counting.AppendCalls - appendBefore, counting.ClaimCalls - claimBefore, allocated);
        BenchUtil.Log($"w2 {label}: {runs} runs x {steps} steps in {wall:F3} s = {runs * steps / wall:F0} steps/s; start-all {startMs:F0} ms; " +
                      $"{pass.Commits} commits, {pass.AppendCalls} appends, {pass.ClaimCalls} claims, {pass.GetRunCalls} GetRunAsync; cpu {cpu:F2} s ({cpu * 1e6 / (runs * steps):F0} us/step); {allocated / (runs * steps)} B allocated/step; rss {BenchUtil.CurrentRssMb():F0} MB");
        return pass;
    }

    /// <summary>Appends through the store API alone: <paramref name="concurrency"/> claimed runs, each appending one entry at a time.</summary>
    private static async Task<(double PerSecond, double CpuUsPerAppend)> StoreOnlyAppendsPerSecondAsync(BenchTarget floor, int concurrency, int total)
    {
        await using var store = floor.CreateStore();
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
