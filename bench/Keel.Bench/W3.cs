using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Keel.Bench;

/// <summary>
/// W3: 200 runs of 10 steps of ~20 ms, each appending a (run, step) line to a side-effect log; the worker process is
/// killed with SIGKILL halfway and restarted. Measures recovery time and effect duplication/loss.
/// </summary>
internal static class W3
{
    private const string Workflow = "w3";

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        if (target.IsPostgres)
        {
            await RunSharedAsync(options, target, dataDir, result, settings);
            return;
        }
        var runs = options.Runs ?? 200;
        var steps = options.Steps ?? 10;
        var db = target.Db!;
        var effects = Path.Combine(dataDir, "w3-effects.log");
        File.WriteAllText(effects, "");
        var killAt = runs * steps / 2;

        await using var store = target.CreateStore();
        await store.InitializeAsync();
        var client = KeelClient.Create(store);
        for (var i = 0; i < runs; i++)
        {
            await client.StartAsync(Workflow, steps, new StartWorkflowOptions { RunId = RunId(i), AllowUnknownWorkflow = true }); // its workers start next
        }
        BenchUtil.Log($"w3 started {runs} runs of {steps} steps; spawning worker 1");

        string[] childArgs = ["w3-worker", .. target.ChildArgs(), "--effects", effects];
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

        var (counts, duplicates, missing, completedRuns) = CheckEffects([effects], target, steps);
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

    /// <summary>Effects: duplicates beyond the first line per (run, step); steps of completed runs with no line.</summary>
    private static (Dictionary<(string, int), int> Counts, int Duplicates, int Missing, List<string> CompletedRuns) CheckEffects(IEnumerable<string> effectFiles, BenchTarget target, int steps)
    {
        var counts = new Dictionary<(string, int), int>();
        foreach (var line in effectFiles.SelectMany(File.ReadLines))
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
        using (var raw = target.OpenRaw())
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
        return (counts, duplicates, missing, completedRuns);
    }

    /// <summary>
    /// W3 on a shared store (PostgreSQL): two worker processes share the 200 runs; one is SIGKILLed halfway and the
    /// other picks up its runs once their leases expire (the workers have ids that do not name a local process, as
    /// if on another machine, so the dead one's leases are not freed early). recovery_s is from the kill to all done.
    /// </summary>
    private static async Task RunSharedAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        var runs = options.Runs ?? 200;
        var steps = options.Steps ?? 10;
        var workers = options.Workers ?? 2;
        var leaseMs = options.LeaseMs ?? 2000;
        var renewMs = Math.Max(100, leaseMs / 4);
        // One effects file per worker: .NET's FileStream writes at its own tracked offset (pwrite), not O_APPEND, so two
        // processes appending to one file would overwrite each other's lines.
        var effectFiles = Enumerable.Range(1, workers).Select(w => Path.Combine(dataDir, $"w3-effects-worker{w}.log")).ToArray();
        foreach (var file in effectFiles)
        {
            File.WriteAllText(file, "");
        }
        var killAt = runs * steps / 2;
        if (workers < 2)
        {
            throw new ArgumentException("w3 on a shared store needs --workers 2 or more (one is killed)");
        }

        await using (var schema = target.CreateStore())
        {
            await schema.InitializeAsync(); // the schema exists before the workers start
        }
        BenchUtil.Log($"w3 spawning {workers} workers (lease {leaseMs} ms, renewed every {renewMs} ms)");

        var ids = Enumerable.Range(1, workers).Select(w => string.Create(CultureInfo.InvariantCulture, $"bench-w3-{Environment.ProcessId}-worker{w}")).ToArray();
        var ready = new List<Task>();
        var children = new List<Process>();
        for (var w = 0; w < workers; w++)
        {
            var name = $"worker{w + 1}";
            var readySignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ready.Add(readySignal.Task);
            children.Add(BenchUtil.StartSelf(["w3-worker", .. target.ChildArgs(), "--effects", effectFiles[w], "--lease-ms", leaseMs.ToString(CultureInfo.InvariantCulture), "--worker-id", ids[w]],
                line =>
                {
                    if (line.StartsWith("READY", StringComparison.Ordinal))
                    {
                        readySignal.TrySetResult();
                    }
                    BenchUtil.Log($"  {name} | {line}");
                }));
        }
        var sw = Stopwatch.StartNew();
        try
        {
            // Runs are created once every worker is ready, so that the workers share them (claims as they appear).
            await Task.WhenAll(ready).WaitAsync(TimeSpan.FromMinutes(2), TimeProvider.System);
            // Created in the background: the workers run the first runs while the rest are created, and the kill
            // below must land at half of the effects, not after all creates.
            sw.Restart();
            var creating = Task.Run(async () =>
            {
                await using var store = target.CreateStore();
                await store.InitializeAsync();
                var client = KeelClient.Create(store);
                for (var i = 0; i < runs; i++)
                {
                    await client.StartAsync(Workflow, steps, new StartWorkflowOptions { RunId = RunId(i), AllowUnknownWorkflow = true }); // its workers start next
                }
                BenchUtil.Log($"w3 started {runs} runs of {steps} steps after {sw.Elapsed.TotalSeconds:F2} s");
            });
            long linesAtKill;
            while (true)
            {
                linesAtKill = effectFiles.Sum(CountLines);
                if (linesAtKill >= killAt || children.Any(c => c.HasExited))
                {
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(2), TimeProvider.System);
            }
            if (children.FirstOrDefault(c => c.HasExited) is { } early)
            {
                throw new InvalidOperationException($"a worker exited early with code {early.ExitCode}");
            }
            BenchUtil.KillHard(children[0]);
            var killed = Stopwatch.StartNew();
            linesAtKill = effectFiles.Sum(CountLines);
            BenchUtil.Log($"w3 SIGKILL worker1 at {sw.Elapsed.TotalSeconds:F2} s with {linesAtKill} effect lines");
            await creating;

            long inFlight, completedAtKill, pendingAtKill, ownedByKilled, journaledAtKill, leaseLeftMin, leaseLeftMax;
            var heldByKilled = new List<string>();
            using (var raw = target.OpenRaw())
            {
                inFlight = BenchTarget.Scalar(raw, "SELECT count(*) FROM runs WHERE status NOT IN ('Pending', 'Completed', 'Failed', 'Cancelled')");
                completedAtKill = BenchTarget.Scalar(raw, "SELECT count(*) FROM runs WHERE status = 'Completed'");
                pendingAtKill = BenchTarget.Scalar(raw, "SELECT count(*) FROM runs WHERE status = 'Pending'");
                ownedByKilled = BenchTarget.Scalar(raw, $"SELECT count(*) FROM runs WHERE owner = '{ids[0]}' AND status NOT IN ('Completed', 'Failed', 'Cancelled')");
                using (var command = raw.CreateCommand())
                {
                    command.CommandText = $"SELECT run_id FROM runs WHERE owner = '{ids[0]}' AND status NOT IN ('Completed', 'Failed', 'Cancelled')";
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                    {
                        heldByKilled.Add(reader.GetString(0));
                    }
                }
                var nowMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                leaseLeftMin = BenchTarget.Scalar(raw, $"SELECT COALESCE(min(lease_expires_at), 0) - {nowMs} FROM runs WHERE owner = '{ids[0]}'");
                leaseLeftMax = BenchTarget.Scalar(raw, $"SELECT COALESCE(max(lease_expires_at), 0) - {nowMs} FROM runs WHERE owner = '{ids[0]}'");
                BenchUtil.Log($"w3 the killed worker's leases expire in {leaseLeftMin}..{leaseLeftMax} ms");
                journaledAtKill = BenchTarget.Scalar(raw, "SELECT count(*) FROM journal WHERE kind = 'StepCompleted'");
                BenchUtil.Log($"w3 at kill: {inFlight} in flight ({ownedByKilled} held by the killed worker), {completedAtKill} completed, {pendingAtKill} pending, {journaledAtKill} steps journaled");
            }

            // Wait until every run is done; note when the killed worker's runs start moving again (lease expiry).
            long completed = 0;
            double? firstTakeoverS = null;
            var deadline = TimeSpan.FromSeconds(120);
            using (var raw = target.OpenRaw())
            {
                while (killed.Elapsed < deadline)
                {
                    completed = await BenchTarget.ScalarAsync(raw, "SELECT count(*) FROM runs WHERE status = 'Completed'");
                    // Taken over: a run the killed worker held is now held by a surviving worker (claimed after its lease expired).
                    if (firstTakeoverS is null && heldByKilled.Count > 0 &&
                        await BenchTarget.ScalarAsync(raw, $"SELECT count(*) FROM runs WHERE owner IN ({string.Join(", ", ids.Skip(1).Select(i => $"'{i}'"))}) AND run_id IN ({string.Join(", ", heldByKilled.Select(r => $"'{r}'"))})") > 0)
                    {
                        firstTakeoverS = killed.Elapsed.TotalSeconds;
                        BenchUtil.Log($"w3 first run of the killed worker taken over after {firstTakeoverS:F3} s");
                    }
                    if (completed >= runs || children.Skip(1).Any(c => c.HasExited))
                    {
                        break;
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
                }
            }
            var recovery = killed.Elapsed;
            BenchUtil.Log($"w3 after kill: {completed}/{runs} completed in {recovery.TotalSeconds:F3} s");
            foreach (var child in children.Skip(1))
            {
                child.StandardInput.Close(); // graceful stop
                if (!child.WaitForExit(TimeSpan.FromSeconds(15)))
                {
                    BenchUtil.KillHard(child);
                }
            }

            var (counts, duplicates, missing, completedRuns) = CheckEffects(effectFiles, target, steps);
            BenchUtil.Log($"w3 effects: {counts.Values.Sum()} lines, {duplicates} duplicates, {missing} missing");
            result["recovery_s"] = BenchUtil.Round(recovery.TotalSeconds, 3);
            result["runs_completed"] = completedRuns.Count;
            result["in_flight_at_kill"] = inFlight;
            result["duplicate_effects"] = duplicates;
            result["missing_effects"] = missing;
            result["detail"] = new JsonObject
            {
                ["recovery_from"] = "SIGKILL of worker1 (worker2 kept running)",
                ["effects_at_kill"] = linesAtKill,
                ["completed_at_kill"] = completedAtKill,
                ["pending_at_kill"] = pendingAtKill,
                ["held_by_killed_worker_at_kill"] = ownedByKilled,
                ["first_takeover_s"] = firstTakeoverS is { } f ? BenchUtil.Round(f, 3) : null,
                ["killed_leases_left_ms_min"] = leaseLeftMin,
                ["killed_leases_left_ms_max"] = leaseLeftMax,
                ["effect_lines"] = counts.Values.Sum(),
            };
            settings["runs"] = runs;
            settings["steps"] = steps;
            settings["step_ms"] = 20;
            settings["workers"] = workers;
            settings["kill_after_effects"] = killAt;
            settings["max_concurrent_runs"] = 256;
            settings["lease_duration_ms"] = leaseMs;
            settings["lease_renew_interval_ms"] = renewMs;
            settings["worker_ids"] = "not local-process ids: dead-owner detection by pid does not apply, the lease must expire";
            settings["repetitions"] = 1;
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    BenchUtil.KillHard(child);
                }
                child.Dispose();
            }
        }
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
        var target = BenchTarget.FromChildOptions(options);
        var effectsPath = options.Effects ?? throw new ArgumentException("--effects is required");
        await using var effects = new FileStream(effectsPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var effectsLock = new Lock();
        var stepDelay = TimeSpan.FromMilliseconds(20);

        await using var keel = await KeelHost.StartAsync(k => k
            .UseStore(_ => target.CreateStore())
            .Configure(o =>
            {
                o.MaxConcurrentRuns = 256;
                BenchTarget.ApplyLease(o, options);
                if (options.WorkerId is { } id)
                {
                    o.WorkerId = id;
                }
            })
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
