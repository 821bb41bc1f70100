using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Keel.Sqlite;

namespace Keel.Bench;

/// <summary>
/// W3: 200 runs of 10 steps of ~20 ms, each appending a (run, step) line to a side-effect log; the worker process is
/// killed with SIGKILL halfway and restarted. Measures recovery time and effect duplication/loss.
/// </summary>
internal static class W3
{
    private const string Workflow = "w3";

    public static async Task RunAsync(BenchOptions options, string dataDir, JsonObject result, JsonObject settings)
    {
        var runs = options.Runs ?? 200;
        var steps = options.Steps ?? 10;
        var db = Path.Combine(dataDir, "w3.db");
        var effects = Path.Combine(dataDir, "w3-effects.log");
        File.WriteAllText(effects, "");
        var killAt = runs * steps / 2;

        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db, Durability = options.Durability });
        await store.InitializeAsync();
        var client = KeelClient.Create(store);
        for (var i = 0; i < runs; i++)
        {
            await client.StartAsync(Workflow, steps, new StartWorkflowOptions { RunId = RunId(i) });
        }
        BenchUtil.Log($"w3 started {runs} runs of {steps} steps; spawning worker 1");

        var childArgs = new[] { "w3-worker", "--db", db, "--effects", effects, "--durability", options.DurabilityArg };
        var sw = Stopwatch.StartNew();
        var first = BenchUtil.StartSelf(childArgs, line => BenchUtil.Log($"  worker1 | {line}"));
        long linesAtKill;
        while (true)
        {
            linesAtKill = CountLines(effects);
            if (linesAtKill >= killAt || first.HasExited)
            {
                break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(2), TimeProvider.System);
        }
        if (first.HasExited)
        {
            throw new InvalidOperationException($"worker 1 exited early with code {first.ExitCode}");
        }
        BenchUtil.KillHard(first);
        linesAtKill = CountLines(effects);
        BenchUtil.Log($"w3 SIGKILL worker 1 at {sw.Elapsed.TotalSeconds:F2} s with {linesAtKill} effect lines");

        long inFlight, completedAtKill, pendingAtKill;
        using (var raw = BenchUtil.OpenRaw(db))
        {
            inFlight = BenchUtil.Scalar(raw, "SELECT count(*) FROM runs WHERE status NOT IN ('Pending', 'Completed', 'Failed', 'Cancelled')");
            completedAtKill = BenchUtil.Scalar(raw, "SELECT count(*) FROM runs WHERE status = 'Completed'");
            pendingAtKill = BenchUtil.Scalar(raw, "SELECT count(*) FROM runs WHERE status = 'Pending'");
            var journaledSteps = BenchUtil.Scalar(raw, "SELECT count(*) FROM journal WHERE kind = 'StepCompleted'");
            BenchUtil.Log($"w3 at kill: {inFlight} in flight, {completedAtKill} completed, {pendingAtKill} pending, {journaledSteps} steps journaled");
        }

        var restart = Stopwatch.StartNew();
        double? readyMs = null;
        var second = BenchUtil.StartSelf(childArgs, line =>
        {
            if (line.StartsWith("READY", StringComparison.Ordinal))
            {
                readyMs = restart.Elapsed.TotalMilliseconds;
            }
            BenchUtil.Log($"  worker2 | {line}");
        });
        long completed = 0;
        var deadline = TimeSpan.FromSeconds(120);
        using (var raw = BenchUtil.OpenRaw(db))
        {
            while (restart.Elapsed < deadline)
            {
                completed = BenchUtil.Scalar(raw, "SELECT count(*) FROM runs WHERE status = 'Completed'");
                if (completed >= runs || second.HasExited)
                {
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
            }
        }
        var recovery = restart.Elapsed;
        BenchUtil.Log($"w3 after restart: {completed}/{runs} completed in {recovery.TotalSeconds:F3} s (worker ready after {readyMs:F0} ms)");
        second.StandardInput.Close(); // graceful stop
        if (!second.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            BenchUtil.KillHard(second);
        }

        // Effects: duplicates beyond the first line per (run, step); steps of completed runs with no line.
        var counts = new Dictionary<(string, int), int>();
        foreach (var line in File.ReadLines(effects))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2)
            {
                var key = (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture));
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
        var duplicates = counts.Values.Sum(c => c - 1);
        var missing = 0;
        var completedRuns = new List<string>();
        using (var raw = BenchUtil.OpenRaw(db))
        using (var command = raw.CreateCommand())
        {
            command.CommandText = "SELECT run_id FROM runs WHERE status = 'Completed'";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                completedRuns.Add(reader.GetString(0));
            }
        }
        foreach (var run in completedRuns)
        {
            for (var s = 1; s <= steps; s++)
            {
                if (!counts.ContainsKey((run, s)))
                {
                    missing++;
                }
            }
        }
        BenchUtil.Log($"w3 effects: {counts.Values.Sum()} lines, {duplicates} duplicates, {missing} missing");

        var remainingSteps = runs * steps - (linesAtKill - duplicates);
        result["recovery_s"] = BenchUtil.Round(recovery.TotalSeconds, 3);
        result["runs_completed"] = completedRuns.Count;
        result["in_flight_at_kill"] = inFlight;
        result["duplicate_effects"] = duplicates;
        result["missing_effects"] = missing;
        result["detail"] = new JsonObject
        {
            ["effects_at_kill"] = linesAtKill,
            ["completed_at_kill"] = completedAtKill,
            ["pending_at_kill"] = pendingAtKill,
            ["worker_ready_ms"] = readyMs is { } r ? BenchUtil.Round(r) : null,
            ["remaining_steps_at_kill_approx"] = remainingSteps,
        };
        settings["runs"] = runs;
        settings["steps"] = steps;
        settings["step_ms"] = 20;
        settings["kill_after_effects"] = killAt;
        settings["max_concurrent_runs"] = 256;
        settings["repetitions"] = 1;
    }

    private static string RunId(int i) => string.Create(CultureInfo.InvariantCulture, $"w3-{i:D3}");

    private static long CountLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> buffer = stackalloc byte[16384];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            lines += buffer[..read].Count((byte)'\n');
        }
        return lines;
    }

    /// <summary>The worker child: runs w3 runs until stdin closes.</summary>
    public static async Task<int> WorkerAsync(BenchOptions options)
    {
        var db = options.Db ?? throw new ArgumentException("--db is required");
        var effectsPath = options.Effects ?? throw new ArgumentException("--effects is required");
        await using var effects = new FileStream(effectsPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var effectsLock = new Lock();
        var stepDelay = TimeSpan.FromMilliseconds(20);

        await using var keel = await KeelHost.StartAsync(k => k
            .UseSqlite(db, o => o.Durability = options.Durability)
            .Configure(o => o.MaxConcurrentRuns = 256)
            .AddWorkflow<int, int>(Workflow, async (ctx, n) =>
            {
                var sum = 0;
                for (var i = 1; i <= n; i++)
                {
                    var index = i;
                    sum += await ctx.StepAsync($"s{index}", async sc =>
                    {
                        await Task.Delay(stepDelay, TimeProvider.System, sc.CancellationToken);
                        var bytes = System.Text.Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{sc.RunId} {index}\n"));
                        lock (effectsLock)
                        {
                            effects.Write(bytes);
                            effects.Flush(); // to the OS: survives SIGKILL of this process
                        }
                        return index;
                    });
                }
                return sum;
            }));
        Console.WriteLine("READY");
        // Run until the parent closes stdin (or kills us).
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line == "stop")
            {
                break;
            }
        }
        Console.WriteLine("stopping");
        await keel.StopAsync();
        return 0;
    }
}
