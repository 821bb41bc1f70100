using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Keel.Bench;

/// <summary>
/// W5: 10,000 runs wait for a signal: how much memory the waiting costs the worker (rss_growth_mb, measured while all
/// of them wait, against the worker before they were started), then every run is signalled: all_done_s is from the
/// first signal sent to the last run completed.
/// </summary>
internal static class W5
{
    private const string Workflow = "w5";

    public static async Task RunAsync(BenchOptions options, BenchTarget target, JsonObject result, JsonObject settings)
    {
        var runs = options.Runs ?? 10_000;
        var senders = 64;
        await using var keel = await KeelHost.StartAsync(k => k
            .UseStore(_ => target.CreateStore())
            .Configure(o => BenchTarget.ApplyLease(o, options))
            .AddWorkflow<int, int>(Workflow, async (ctx, n) =>
            {
                var extra = await ctx.WaitForSignalAsync<int>("go");
                return await ctx.StepAsync("finish", _ => Task.FromResult(n + extra));
            }));
        var client = keel.Client;
        using var raw = target.OpenRaw();

        // Warm-up: a few runs through the whole path, so the baseline includes the JIT-compiled engine and pools.
        await RoundAsync(client, raw, "warm", 200, senders);
        var baseline = SettledRssMb();
        BenchUtil.Log($"w5 baseline RSS after warm-up: {baseline:F1} MB");

        var started = Stopwatch.StartNew();
        await ParallelAsync(runs, senders, i => client.StartAsync(Workflow, i, new StartWorkflowOptions { RunId = $"w5-{i:00000}" }));
        var startS = started.Elapsed.TotalSeconds;
        BenchUtil.Log($"w5 started {runs} runs in {startS:F1} s");
        var allWaiting = Stopwatch.StartNew();
        await UntilAsync(raw, "SELECT count(*) FROM runs WHERE run_id LIKE 'w5-%' AND status = 'Waiting' AND owner IS NULL", runs, TimeSpan.FromMinutes(5));
        BenchUtil.Log($"w5 all {runs} runs wait, released from memory ({allWaiting.Elapsed.TotalSeconds:F1} s after the last start)");
        var waitingRaw = BenchUtil.CurrentRssMb();
        var waiting = SettledRssMb();
        BenchUtil.Log($"w5 RSS while {runs} runs wait: {waitingRaw:F1} MB, {waiting:F1} MB after a full GC (growth {waiting - baseline:F1} MB)");

        var signalled = Stopwatch.StartNew();
        await ParallelAsync(runs, senders, i => client.SignalAsync($"w5-{i:00000}", "go", 1));
        var sendS = signalled.Elapsed.TotalSeconds;
        await UntilAsync(raw, "SELECT count(*) FROM runs WHERE run_id LIKE 'w5-%' AND status = 'Completed'", runs, TimeSpan.FromMinutes(5));
        var doneS = signalled.Elapsed.TotalSeconds;
        BenchUtil.Log($"w5 all {runs} runs completed {doneS:F2} s after the first signal (sending took {sendS:F2} s)");

        result["rss_growth_mb"] = BenchUtil.Round(waiting - baseline);
        result["all_done_s"] = BenchUtil.Round(doneS, 2);
        result["detail"] = new JsonObject
        {
            ["runs"] = runs,
            ["concurrent_senders"] = senders,
            ["baseline_rss_mb"] = BenchUtil.Round(baseline),
            ["waiting_rss_mb"] = BenchUtil.Round(waiting),
            ["waiting_rss_mb_before_gc"] = BenchUtil.Round(waitingRaw),
            ["rss_note"] = "RSS of the worker process after a full blocking GC, against the same after the warm-up round",
            ["start_s"] = BenchUtil.Round(startS, 2),
            ["send_signals_s"] = BenchUtil.Round(sendS, 2),
            ["peak_rss_mb"] = BenchUtil.Round(BenchUtil.PeakRssMb()),
        };
        settings["runs"] = runs;
    }

    private static async Task RoundAsync(KeelClient client, System.Data.Common.DbConnection raw, string prefix, int runs, int senders)
    {
        await ParallelAsync(runs, senders, i => client.StartAsync(Workflow, i, new StartWorkflowOptions { RunId = $"{prefix}-{i:00000}" }));
        await UntilAsync(raw, $"SELECT count(*) FROM runs WHERE run_id LIKE '{prefix}-%' AND status = 'Waiting' AND owner IS NULL", runs, TimeSpan.FromMinutes(2));
        await ParallelAsync(runs, senders, i => client.SignalAsync($"{prefix}-{i:00000}", "go", 1));
        await UntilAsync(raw, $"SELECT count(*) FROM runs WHERE run_id LIKE '{prefix}-%' AND status = 'Completed'", runs, TimeSpan.FromMinutes(2));
    }

    /// <summary>Runs <paramref name="count"/> calls with at most <paramref name="parallel"/> in flight, so group commit batches them.</summary>
    private static Task ParallelAsync(int count, int parallel, Func<int, Task> call) =>
        Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, _) => await call(i));

    private static async Task UntilAsync(System.Data.Common.DbConnection raw, string countSql, int expected, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (await BenchTarget.ScalarAsync(raw, countSql) < expected)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out waiting for {expected} rows of: {countSql}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }

    private static double SettledRssMb()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return BenchUtil.CurrentRssMb();
    }
}
