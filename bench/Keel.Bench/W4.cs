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
    private const string Workflow = "w4";
    private const string RunIdValue = "w4-run";
    private static readonly Stopwatch s_clock = new();

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        var steps = options.Steps ?? 10_000;
        var repetitions = options.Repetitions ?? 5;

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
                var journal = await store.GetJournalAsync(RunIdValue);
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
                parameter.Value = RunIdValue;
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
            var lines = new Dictionary<string, double>(StringComparer.Ordinal);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var spawned = Stopwatch.StartNew();
            var child = BenchUtil.StartSelf(["w4-worker", .. target.ChildArgs(), "--phase", warm ? "resume-warm" : "resume", "--steps", steps.ToString(CultureInfo.InvariantCulture)],
                line =>
                {
                    if (line.StartsWith("STORE", StringComparison.Ordinal) || line.StartsWith("INVOKED", StringComparison.Ordinal))
                    {
                        BenchUtil.Log($"  worker{(warm ? " (warm)" : "")} | {line}");
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
            if (warm)
            {
                lock (lines)
                {
                    warmResume.Add(lines["HANG"]);
                    warmResumeCpu.Add(lines.GetValueOrDefault("CPU", double.NaN));
                    BenchUtil.Log($"w4 warm-process restart {r - repetitions + 1}/{repetitions}: resume {lines["HANG"]:F1} ms " +
                                  $"(host started {lines.GetValueOrDefault("HOST_STARTED", double.NaN):F1} ms, workflow invoked {lines.GetValueOrDefault("INVOKED", double.NaN):F1} ms)");
                }
                continue;
            }
            lock (lines)
            {
                resume.Add(lines["HANG"]);
                resumeCpu.Add(lines.GetValueOrDefault("CPU", double.NaN));
                invoked.Add(lines.GetValueOrDefault("INVOKED", double.NaN));
                hostStarted.Add(lines.GetValueOrDefault("HOST_STARTED", double.NaN));
            }
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
        settings["runs"] = 1;
        settings["steps"] = steps;
        settings["repetitions"] = repetitions;
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
                s_hangReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await using (var warm = await StartHostAsync(scratch, TimeSpan.Zero))
                {
                    if (i == 0)
                    {
                        await warm.Client.StartAsync(Workflow, 2000, new StartWorkflowOptions { RunId = RunIdValue });
                    }
                    await s_hangReached.Task; // i == 1: after replaying the 2,000 steps
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
        s_report = true;
        using (var self = Process.GetCurrentProcess())
        {
            s_cpuAtStart = self.TotalProcessorTime;
        }
        s_clock.Restart();
        await using var keel = await StartHostAsync(target, TimeSpan.FromSeconds(10));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HOST_STARTED {s_clock.Elapsed.TotalMilliseconds:F2}"));
        if (options.Phase == "create")
        {
            await keel.Client.StartAsync(Workflow, steps, new StartWorkflowOptions { RunId = RunIdValue });
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

    private static bool s_report;
    private static TimeSpan s_cpuAtStart;
    private static TaskCompletionSource s_hangReached = new();

    private static Task<KeelHost> StartHostAsync(BenchTarget target, TimeSpan drain) => KeelHost.StartAsync(k => k
        .UseStore(_ => new TimingStore(target.CreateStore(),
            s_clock, line =>
            {
                if (s_report)
                {
                    Console.WriteLine(line);
                }
            }))
        // Every bench restart claims the run without progress; keep it from being quarantined.
        .Configure(o =>
        {
            o.MaxRecoveryAttempts = 1000;
            o.DrainTimeout = drain;
        })
        .AddWorkflow<int, int>(Workflow, async (ctx, n) =>
        {
            if (s_report)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"INVOKED {s_clock.Elapsed.TotalMilliseconds:F2} replaying={ctx.IsReplaying}"));
            }
            var sum = 0;
            for (var i = 1; i <= n; i++)
            {
                var index = i;
                sum += await ctx.StepAsync($"s{index}", _ => Task.FromResult(index));
                if (s_report && !ctx.IsReplaying && index % 2000 == 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STEP {index} at {s_clock.Elapsed.TotalMilliseconds:F0} ms"));
                }
            }
            return sum + await ctx.StepAsync("hang", async sc =>
            {
                if (s_report)
                {
                    // CPU used by this process since the clock started: unlike wall time, not inflated by other load.
                    using var self = Process.GetCurrentProcess();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU {(self.TotalProcessorTime - s_cpuAtStart).TotalMilliseconds:F2}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HANG {s_clock.Elapsed.TotalMilliseconds:F2}"));
                }
                s_hangReached.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                return 0;
            });
        }));
}
