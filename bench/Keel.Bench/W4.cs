using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Keel.Bench;

/// <summary>
/// W4: one run with 10,000 completed steps; the worker process is killed (SIGKILL) while the run waits in step 10,001,
/// then a new process starts a worker: resume_ms is from KeelHost.StartAsync to step 10,001's body running again.
/// </summary>
internal static class W4
{

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        var steps = options.Steps ?? 10_000;
        var repetitions = options.Repetitions ?? 5;
        // Published first: the publish's heavy file I/O must not evict the database from the page cache before a restart.
        var aotWorker = options.Aot ? await PublishAotWorkerAsync(FindCheckout(), Path.Combine(dataDir, "aot-worker")) : null;

        // Phase 1: a worker process creates the run and executes 10,000 steps; it is killed inside step 10,001.
        var created = Stopwatch.StartNew();
        var hang = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var creator = BenchUtil.StartSelf(["w4-worker", .. target.ChildArgs(), "--phase", "create", "--steps", steps.ToString(CultureInfo.InvariantCulture)],
            line =>
            {
                BenchUtil.Log($"  creator | {line}");
                if (line.StartsWith("HANG ", StringComparison.Ordinal))
                {
                    hang.TrySetResult(line);
                }
            });
        await hang.Task.WaitAsync(TimeSpan.FromMinutes(10), TimeProvider.System);
        BenchUtil.KillHard(creator);
        var createS = created.Elapsed.TotalSeconds;
        BenchUtil.Log($"w4 created the run with {steps} steps in {createS:F1} s; creator killed (SIGKILL)");
        using (var raw = target.OpenRaw())
        {
            var entries = BenchTarget.Scalar(raw, "SELECT count(*) FROM journal WHERE kind = 'StepCompleted'");
            BenchUtil.Log($"w4 journal has {entries} completed steps");
        }
        // What loading the 10,000-entry journal through the store costs (in this already-warm process).
        var loadMs = new List<double>();
        await using (var store = target.CreateStore())
        {
            await store.InitializeAsync();
            for (var i = 0; i < 6; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var journal = await store.GetJournalAsync(W4Workflow.RunId);
                loadMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (journal.Count < steps)
                {
                    throw new InvalidOperationException($"journal has {journal.Count} entries");
                }
            }
        }
        BenchUtil.Log($"w4 GetJournalAsync of {steps} entries: first {loadMs[0]:F1} ms, then p50 {BenchUtil.Median(loadMs.Skip(1).ToList()):F1} ms");
        // The same query read with typed getters only (no Enum.Parse, boxing or JSON): the floor for the journal load.
        var rawMs = new List<double>();
        using (var raw = target.OpenRaw())
        {
            for (var i = 0; i < 6; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var command = raw.CreateCommand();
                command.CommandText = "SELECT idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at FROM journal WHERE run_id = @run ORDER BY idx;";
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@run";
                parameter.Value = W4Workflow.RunId;
                command.Parameters.Add(parameter);
                using var r = command.ExecuteReader();
                long sum = 0;
                while (r.Read())
                {
                    sum += r.GetInt64(0) + r.GetInt32(1) + r.GetString(2).Length + r.GetString(3).Length + r.GetInt32(4)
                        + (r.IsDBNull(5) ? 0 : r.GetInt64(5)) + r.GetInt64(6) + (r.IsDBNull(7) ? 0 : r.GetString(7).Length)
                        + (r.IsDBNull(8) ? 0 : 1) + (r.IsDBNull(9) ? 0 : 1);
                }
                rawMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                GC.KeepAlive(sum);
            }
        }
        BenchUtil.Log($"w4 the same rows read with typed getters only: p50 {BenchUtil.Median(rawMs.Skip(1).ToList()):F1} ms");

        // Phase 2: repeated restarts. The run never gets past step 10,001, so every restart resumes the same state.
        var resume = new List<double>();
        var invoked = new List<double>();
        var hostStarted = new List<double>();
        var processToHang = new List<double>();
        var warmResume = new List<double>();
        var resumeCpu = new List<double>();
        var warmResumeCpu = new List<double>();
        for (var r = 0; r < 2 * repetitions; r++)
        {
            var warm = r >= repetitions;
            var (lines, wall) = await RestartAsync(warm ? "worker (warm)" : "worker", onLine => BenchUtil.StartSelf(
                ["w4-worker", .. target.ChildArgs(), "--phase", warm ? "resume-warm" : "resume", "--steps", steps.ToString(CultureInfo.InvariantCulture)], onLine));
            if (warm)
            {
                warmResume.Add(lines["HANG"]);
                warmResumeCpu.Add(lines.GetValueOrDefault("CPU", double.NaN));
                BenchUtil.Log($"w4 warm-process restart {r - repetitions + 1}/{repetitions}: resume {lines["HANG"]:F1} ms " +
                              $"(host started {lines.GetValueOrDefault("HOST_STARTED", double.NaN):F1} ms, workflow invoked {lines.GetValueOrDefault("INVOKED", double.NaN):F1} ms)");
                continue;
            }
            resume.Add(lines["HANG"]);
            resumeCpu.Add(lines.GetValueOrDefault("CPU", double.NaN));
            invoked.Add(lines.GetValueOrDefault("INVOKED", double.NaN));
            hostStarted.Add(lines.GetValueOrDefault("HOST_STARTED", double.NaN));
            processToHang.Add(wall);
            BenchUtil.Log($"w4 restart {r + 1}/{repetitions}: resume {resume[^1]:F1} ms (host started {hostStarted[^1]:F1} ms, workflow invoked {invoked[^1]:F1} ms, " +
                          $"step 10,001 body {resume[^1]:F1} ms, cpu {resumeCpu[^1]:F0} ms; process spawn to body {wall:F0} ms)");
        }

        result["resume_ms"] = BenchUtil.Round(BenchUtil.Median(resume));
        result["detail"] = new JsonObject
        {
            ["resume_cpu_ms_p50"] = BenchUtil.Round(BenchUtil.Median(resumeCpu)),
            ["resume_cpu_ms_warm_process_p50"] = BenchUtil.Round(BenchUtil.Median(warmResumeCpu)),
            ["resume_ms_min"] = BenchUtil.Round(resume.Min()),
            ["resume_ms_max"] = BenchUtil.Round(resume.Max()),
            ["host_started_ms_p50"] = BenchUtil.Round(BenchUtil.Median(hostStarted)),
            ["workflow_invoked_ms_p50"] = BenchUtil.Round(BenchUtil.Median(invoked)),
            ["replay_ms_p50"] = BenchUtil.Round(BenchUtil.Median(resume.Zip(invoked, (a, b) => a - b).ToList())),
            ["process_spawn_to_body_ms_p50"] = BenchUtil.Round(BenchUtil.Median(processToHang)),
            ["journal_load_ms_first"] = BenchUtil.Round(loadMs[0]),
            ["journal_load_ms_warm_p50"] = BenchUtil.Round(BenchUtil.Median(loadMs.Skip(1).ToList())),
            ["journal_read_typed_getters_ms_p50"] = BenchUtil.Round(BenchUtil.Median(rawMs.Skip(1).ToList())),
            ["resume_ms_warm_process_p50"] = BenchUtil.Round(BenchUtil.Median(warmResume)),
            ["create_s"] = BenchUtil.Round(createS, 2),
        };
        if (aotWorker is not null)
        {
            await NativeAotRestartsAsync(target, aotWorker!, repetitions, result, (JsonObject)result["detail"]!);
        }
        settings["runs"] = 1;
        settings["steps"] = steps;
        settings["repetitions"] = repetitions;
    }

    /// <summary>
    /// The same restarts with the worker published as a native AOT program (bench/Keel.Bench.AotWorker): no JIT and a
    /// small start path, what a deployment that restarts workers often can choose (README, "Deployment").
    /// </summary>
    private static async Task NativeAotRestartsAsync(BenchTarget target, string worker, int repetitions, JsonObject result, JsonObject detail)
    {
        var resume = new List<double>();
        var hostStarted = new List<double>();
        var processToHang = new List<double>();
        for (var r = 0; r < repetitions; r++)
        {
            var (lines, wall) = await RestartAsync("aot worker", onLine => BenchUtil.Start(worker, target.ChildArgs(), onLine));
            resume.Add(lines["HANG"]);
            hostStarted.Add(lines.GetValueOrDefault("HOST_STARTED", double.NaN));
            processToHang.Add(wall);
            BenchUtil.Log($"w4 native AOT restart {r + 1}/{repetitions}: resume {resume[^1]:F1} ms (host started {hostStarted[^1]:F1} ms, " +
                          $"workflow invoked {lines.GetValueOrDefault("INVOKED", double.NaN):F1} ms; process spawn to body {wall:F0} ms)");
        }
        result["resume_ms_native_aot"] = BenchUtil.Round(BenchUtil.Median(resume));
        detail["native_aot_resume_ms_min"] = BenchUtil.Round(resume.Min());
        detail["native_aot_resume_ms_max"] = BenchUtil.Round(resume.Max());
        detail["native_aot_host_started_ms_p50"] = BenchUtil.Round(BenchUtil.Median(hostStarted));
        detail["native_aot_process_spawn_to_body_ms_p50"] = BenchUtil.Round(BenchUtil.Median(processToHang));
    }

    /// <summary>The Keel checkout the native AOT worker is published from: above this program, or above the current directory.</summary>
    private static string FindCheckout()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = Path.GetFullPath(start); dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Keel.slnx")))
                {
                    return dir;
                }
            }
        }
        throw new ArgumentException("--aot: cannot find the Keel checkout (Keel.slnx) above this program or the current directory; run the bench from the checkout.");
    }

    /// <summary>Publishes bench/Keel.Bench.AotWorker from this checkout (about a minute on 2 cores) and returns its path.</summary>
    private static async Task<string> PublishAotWorkerAsync(string root, string output)
    {
        var started = Stopwatch.StartNew();
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Path.Combine(root, "bench", "Keel.Bench.AotWorker", "Keel.Bench.AotWorker.csproj"), "-c", "Release",
                "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "-o", output, "-nologo", "-v", "q" },
            UseShellExecute = false,
        };
        using var publish = Process.Start(info) ?? throw new InvalidOperationException("cannot start dotnet publish");
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"--aot: dotnet publish of the native AOT worker failed (exit {publish.ExitCode}); see its output above.");
        }
        BenchUtil.Log($"w4 published the native AOT worker in {started.Elapsed.TotalSeconds:F0} s");
        return Path.Combine(output, "Keel.Bench.AotWorker");
    }

    /// <summary>Starts a worker process, waits until its run reaches step 10,001 (HANG), kills it (SIGKILL), and returns
    /// its timing lines (name to ms) and the time from spawning it to HANG.</summary>
    private static async Task<(Dictionary<string, double> Lines, double WallMs)> RestartAsync(string label, Func<Action<string>, Process> spawn)
    {
        var lines = new Dictionary<string, double>(StringComparer.Ordinal);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var spawned = Stopwatch.StartNew();
        var child = spawn(line =>
        {
            if (line.StartsWith("STORE", StringComparison.Ordinal) || line.StartsWith("INVOKED", StringComparison.Ordinal))
            {
                BenchUtil.Log($"  {label} | {line}");
            }
            var parts = line.Split(' ');
            if (parts.Length >= 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                lock (lines)
                {
                    lines.TryAdd(parts[0], ms);
                }
            }
            if (line.StartsWith("HANG ", StringComparison.Ordinal))
            {
                done.TrySetResult();
            }
        });
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2), TimeProvider.System);
        var wall = spawned.Elapsed.TotalMilliseconds;
        BenchUtil.KillHard(child);
        lock (lines)
        {
            return (new Dictionary<string, double>(lines, StringComparer.Ordinal), wall);
        }
    }

    /// <summary>
    /// The worker child: --phase create starts the run; --phase resume only starts the worker (a cold process);
    /// --phase resume-warm first runs and replays a 2,000-step run on a scratch database in the same process, so that
    /// the measured resume excludes JIT compilation.
    /// </summary>
    public static async Task<int> WorkerAsync(BenchOptions options)
    {
        var target = BenchTarget.FromChildOptions(options);
        var steps = options.Steps ?? 10_000;
        if (options.Phase == "resume-warm")
        {
            var scratch = target.Sibling(string.Create(CultureInfo.InvariantCulture, $"warm{Environment.ProcessId}"));
            for (var i = 0; i < 2; i++)
            {
                W4Workflow.HangReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await using (var warm = await W4Workflow.StartWorkerAsync(scratch.CreateStore, TimeSpan.Zero))
                {
                    if (i == 0)
                    {
                        await warm.Client.StartAsync(W4Workflow.Name, 2000, new StartWorkflowOptions { RunId = W4Workflow.RunId });
                    }
                    await W4Workflow.HangReached.Task; // i == 1: after replaying the 2,000 steps
                }
            }
            if (scratch.IsPostgres)
            {
                await scratch.DropAsync();
            }
            else
            {
                foreach (var f in Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(scratch.Db!))!, Path.GetFileName(scratch.Db!) + "*"))
                {
                    File.Delete(f);
                }
            }
            Console.WriteLine("WARMED 0");
        }
        W4Workflow.Report = true;
        using (var self = Process.GetCurrentProcess())
        {
            W4Workflow.CpuAtStart = self.TotalProcessorTime;
        }
        W4Workflow.Clock.Restart();
        await using var keel = await W4Workflow.StartWorkerAsync(target.CreateStore, TimeSpan.FromSeconds(10));
        if (options.Phase == "create")
        {
            await keel.Client.StartAsync(W4Workflow.Name, steps, new StartWorkflowOptions { RunId = W4Workflow.RunId });
        }
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
}
