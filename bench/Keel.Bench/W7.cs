using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Testing;

namespace Keel.Bench;

/// <summary>
/// W7: a chaos soak on <see cref="ChaosHarness"/>. Runs of a mixed workflow (a Retryable step failing transiently 30 % of
/// the time, an Idempotent charge at a fake API that deduplicates by key, a 100 ms durable timer, a signal and an approval
/// the driver sends, an AtMostOnce send to a fake outbox, a child run) are started in batches while worker processes are
/// SIGKILLed every 200-800 ms and restarted at once, until --kills kills; then until every run has ended. The operator
/// settles NeedsAttention: the message in the outbox, complete the send with it; else retry. PostgreSQL: two workers,
/// one killed at a time.
/// </summary>
internal static class W7
{
    private const string Workflow = "w7";
    private const string Child = "w7-child";
    private const int DefaultBatch = 20;
    private const int CallMs = 10;

    private static readonly RunStatus[] Open = [RunStatus.Pending, RunStatus.Running, RunStatus.Waiting, RunStatus.Paused, RunStatus.NeedsAttention];

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        var kills = options.Kills ?? 300;
        var workers = options.Workers ?? (target.IsPostgres ? 2 : 1);
        var batch = options.Batch ?? DefaultBatch;
        var effects = Directory.CreateDirectory(Path.Combine(dataDir, "effects")).FullName;
        var ledger = Path.Combine(dataDir, "ledger");
        await using var store = target.CreateStore();
        await store.InitializeAsync(); // before the workers, so they do not race to create the schema
        var client = KeelClient.Create(store);
        string[] childArgs = ["w7-worker", .. target.ChildArgs(), "--effects", effects,
            .. options.LeaseMs is { } lease ? ["--lease-ms", lease.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>()];

        var started = 0;
        using var stopTrace = new CancellationTokenSource();
        var trace = options.TraceBlame ? TraceBlameAsync(target, stopTrace.Token) : Task.CompletedTask;
        var report = await ChaosHarness.RunAsync(new ChaosOptions
        {
            Client = client,
            Workers = workers,
            StartWorker = _ => BenchUtil.SelfStartInfo(childArgs),
            LedgerDirectory = ledger,
            Kills = kills,
            Workload = async ctx => started = await DriveAsync(ctx, batch),
            Operator = (c, _) => Task.FromResult<StepResolution?>(EffectLines(effects, "outbox").FirstOrDefault(l => l.Key == c.IdempotencyKey) is { } sent
                ? StepResolution.CompleteWith(JsonSerializer.Serialize(sent.Value), "w7 operator", "the message is in the outbox")
                : StepResolution.Retry("w7 operator", "the message is not in the outbox")),
            SettleTimeout = TimeSpan.FromMinutes(3),
            Seed = options.Seed,
            Log = BenchUtil.Log,
        });
        await stopTrace.CancelAsync();
        await trace;
        if (options.TraceBlame)
        {
            foreach (var e in report.Events)
            {
                BenchUtil.Log($"w7 event {e.Kind} {e.At:HH:mm:ss.fff} worker {e.Worker} pid {e.ProcessId}");
            }
        }
        BenchUtil.Log($"w7 {report}");
        foreach (var violation in report.Violations)
        {
            BenchUtil.Log($"w7 violation: {violation}");
        }
        await DumpAsync(client, report, report.FinalRuns.Where(r => r.Status == RunStatus.Blocked || !(r.Status.IsTerminal())).Take(5));

        // The fake API applies a key once: a (run, step) applied under two keys was applied twice.
        var api = EffectLines(effects, "api");
        var idempotentDuplicates = api.GroupBy(l => (l.RunId, l.Step)).Sum(g => g.Select(l => l.Key).Distinct(StringComparer.Ordinal).Count() - 1);
        var outbox = EffectLines(effects, "outbox");
        var outboxDuplicates = outbox.GroupBy(l => l.Key).Sum(g => g.Count() - 1);
        var parents = report.FinalRuns.Where(r => r.WorkflowName == Workflow).ToList();
        var children = report.FinalRuns.Where(r => r.WorkflowName == Child).ToList();
        var completed = parents.Where(r => r.Status == RunStatus.Completed).Select(r => r.RunId).ToList();
        var charged = api.Select(l => l.RunId).ToHashSet(StringComparer.Ordinal);
        var sentBy = outbox.Select(l => l.RunId).ToHashSet(StringComparer.Ordinal);
        var missingCharges = completed.Count(r => !charged.Contains(r));
        var missingSends = completed.Count(r => !sentBy.Contains(r));

        result["kills"] = report.Kills;
        result["runs"] = parents.Count;
        result["runs_completed"] = completed.Count;
        result["runs_quarantined"] = report.RunsQuarantined;
        result["completed_step_reruns"] = report.CompletedStepReruns;
        result["at_most_once_duplicates"] = report.AtMostOnceDuplicates;
        result["idempotent_duplicates"] = idempotentDuplicates;
        result["missing_effects"] = report.MissingEffects + missingCharges + missingSends;
        result["needs_attention_resolved"] = report.NeedsAttentionResolved;
        result["wall_s"] = BenchUtil.Round(report.WallTime.TotalSeconds, 1);
        result["detail"] = new JsonObject
        {
            ["seed"] = report.Seed,
            ["runs_started_by_driver"] = started,
            ["child_runs"] = children.Count,
            ["child_runs_completed"] = children.Count(r => r.Status == RunStatus.Completed),
            ["runs_failed"] = report.RunsFailed,
            ["runs_never_ended"] = report.RunsNeverEnded,
            ["worker_exits"] = report.WorkerExits,
            ["body_starts"] = report.BodyStarts,
            ["idempotent_key_mismatches"] = report.IdempotentKeyMismatches,
            ["outbox_duplicates"] = outboxDuplicates,
            ["api_requests"] = api.Count,
            ["api_applied"] = api.Select(l => l.Key).Distinct(StringComparer.Ordinal).Count(),
            ["missing_journal_vs_ledger"] = report.MissingEffects,
            ["missing_charges"] = missingCharges,
            ["missing_sends"] = missingSends,
            ["stale_body_starts"] = report.StaleBodyStarts,
            ["holds"] = report.Holds,
            ["violations"] = new JsonArray([.. report.Violations.Take(20).Select(v => (JsonNode?)JsonValue.Create(v))]),
        };
        settings["kills_requested"] = kills;
        settings["workers"] = workers;
        settings["kill_interval_ms"] = "200-800 (uniform), one worker at a time, restarted at once";
        settings["batch_size"] = batch;
        settings["fake_call_ms"] = CallMs;
        settings["flaky_failure_rate"] = 0.3;
        settings["timer_ms"] = 100;
        settings["max_recovery_attempts"] = new KeelOptions().MaxRecoveryAttempts;
        settings["lease_duration_ms"] = options.LeaseMs ?? (int)new KeelOptions().LeaseDuration.TotalMilliseconds;
        settings["worker_ids"] = "default (machine/pid/start): a restarted worker frees a dead local worker's leases at once";
    }

    /// <summary>
    /// What a run that went wrong went through, for the log: the run, its journal, its body starts (ledger), and the
    /// kills and exits from its first body start on.
    /// </summary>
    private static async Task DumpAsync(KeelClient client, ChaosReport report, IEnumerable<RunInfo> runs)
    {
        foreach (var run in runs)
        {
            BenchUtil.Log($"w7 run {run.RunId}: {run.Status}, recovery attempts {run.RecoveryAttempts}, owner {run.Owner ?? "none"}, created {run.CreatedAt:HH:mm:ss.fff}, updated {run.UpdatedAt:HH:mm:ss.fff}: {run.StatusReason}");
            foreach (var e in await client.GetJournalAsync(run.RunId))
            {
                BenchUtil.Log($"w7   journal #{e.Index} {e.RecordedAt:HH:mm:ss.fff} {e.Kind} seq {e.Sequence} '{e.Name}' attempt {e.Attempt}{(e.Error is { } err ? $" error {err.Type}" : "")}");
            }
            var bodies = report.Bodies.Where(b => b.RunId == run.RunId).ToList();
            foreach (var b in bodies)
            {
                BenchUtil.Log($"w7   body {b.At:HH:mm:ss.ffffff} pid {b.ProcessId} '{b.StepName}' seq {b.Sequence} attempt {b.Attempt}");
            }
            var from = bodies.Count > 0 ? bodies[0].At : run.CreatedAt;
            foreach (var e in report.Events.Where(e => e.At >= from && e.At <= run.UpdatedAt.AddSeconds(1)))
            {
                BenchUtil.Log($"w7   {e.Kind} {e.At:HH:mm:ss.fff} worker {e.Worker} pid {e.ProcessId}");
            }
        }
    }

    /// <summary>
    /// --trace-blame: every 20 ms, the runs that carry blame (interrupted, held alone, charged), logged when their blame
    /// changes: with the kills in the log, which death was charged to which run, and where it was.
    /// </summary>
    private static async Task TraceBlameAsync(BenchTarget target, CancellationToken cancellationToken)
    {
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        using var connection = target.OpenRaw();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT run_id, status, recovery_attempts, interrupted, held_alone, owner, recovery_point FROM runs " +
                                      "WHERE recovery_attempts > 0 OR interrupted > 0 OR status = 'Blocked'";
                var now = new Dictionary<string, string>(StringComparer.Ordinal);
                using (var reader = command.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        now[reader.GetString(0)] = string.Join(" ", Enumerable.Range(1, 6).Select(i =>
                            $"{reader.GetName(i)}={(reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))}"));
                    }
                }
                foreach (var (runId, blame) in now.Where(n => !last.TryGetValue(n.Key, out var before) || before != n.Value))
                {
                    BenchUtil.Log($"w7 blame {runId}: {blame}");
                }
                foreach (var runId in last.Keys.Where(k => !now.ContainsKey(k)))
                {
                    BenchUtil.Log($"w7 blame {runId}: cleared");
                }
                last = now;
                await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (System.Data.Common.DbException ex)
            {
                BenchUtil.Log($"w7 blame trace: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// The driver: while the harness kills, keeps about one to two batches of runs open (starting the next batch when
    /// fewer than a batch are open), sends each its "go" signal at once, and approves every approval as it appears;
    /// once the kills are done, starts no more and approves until every run has ended. Returns the runs it started.
    /// </summary>
    private static async Task<int> DriveAsync(ChaosWorkloadContext ctx, int batch)
    {
        var client = ctx.Client;
        var ct = ctx.CancellationToken;
        var open = new HashSet<string>(StringComparer.Ordinal);
        var started = 0;
        while (true)
        {
            if (open.Count > 0)
            {
                var page = await client.ListRunsAsync(new RunQuery { Statuses = Open, WorkflowName = Workflow, Limit = 1000 }, ct);
                open.IntersectWith(page.Runs.Select(r => r.RunId));
            }
            if (ctx.IsChaosRunning && open.Count < batch)
            {
                for (var i = 0; i < batch; i++, started++)
                {
                    var runId = string.Create(CultureInfo.InvariantCulture, $"w7-{started:00000}");
                    await client.StartAsync(Workflow, started, new StartWorkflowOptions { AllowUnknownWorkflow = true, RunId = runId }, ct);
                    await client.SignalAsync(runId, "go", started, ct);
                    open.Add(runId);
                }
            }
            foreach (var approval in await client.ListPendingApprovalsAsync(limit: 1000, cancellationToken: ct))
            {
                try
                {
                    await client.DecideApprovalAsync(approval.RunId, new ApprovalResponse { Approved = true, By = "w7 driver", ApprovalName = approval.Name }, ct);
                }
                catch (Exception ex) when (ex is ApprovalNotPendingException or RunFinishedException)
                {
                    // decided or ended meanwhile
                }
            }
            if (!ctx.IsChaosRunning && open.Count == 0)
            {
                return started;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, ct);
        }
    }

    /// <summary>The worker child: runs W7's workflows until it is killed.</summary>
    public static async Task<int> WorkerAsync(BenchOptions options)
    {
        var target = BenchTarget.FromChildOptions(options);
        var effects = options.Effects ?? throw new ArgumentException("--effects is required");
        using var api = new EffectFile(effects, "api");
        using var outbox = new EffectFile(effects, "outbox");
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseStore(_ => target.CreateStore()).Configure(o => BenchTarget.ApplyLease(o, options));
            _ = BodyLedger.AttachFromEnvironment(k) ?? throw new InvalidOperationException($"{BodyLedger.DirectoryVariable} is not set: the harness starts W7's workers");
            Register(k, api, outbox);
        });
        Console.WriteLine("READY");
        await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System); // until the harness kills us
        return 0;
    }

    private static void Register(KeelBuilder k, EffectFile api, EffectFile outbox) => k
        .AddWorkflow<int, string>(Workflow, async (ctx, n) =>
        {
            var attempts = await ctx.StepAsync("flaky", async sc =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, sc.CancellationToken);
                if (Random.Shared.NextDouble() < 0.3)
                {
                    throw new TimeoutException($"transient: attempt {sc.Attempt} timed out upstream");
                }
                return sc.Attempt;
            }, new StepOptions { Retry = new RetryPolicy { MaxAttempts = 30, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(400) } });
            var charge = await ctx.StepAsync("charge", async sc =>
            {
                // The fake API: it applies a key once (the analysis counts a (run, step) applied under two keys).
                await Task.Delay(TimeSpan.FromMilliseconds(CallMs), TimeProvider.System, sc.CancellationToken);
                api.Write(sc.IdempotencyKey, sc.RunId, sc.StepName, $"charged-{n}");
                return $"charged-{n}";
            }, new StepOptions { Effect = StepEffect.Idempotent });
            await ctx.SleepAsync(TimeSpan.FromMilliseconds(100));
            var go = await ctx.WaitForSignalAsync<int>("go");
            var approval = await ctx.RequestApprovalAsync(new ApprovalRequest<int> { Name = "ship", Title = $"ship order {n}?", Arguments = n });
            var receipt = await ctx.StepAsync("send", async sc =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(CallMs), TimeProvider.System, sc.CancellationToken);
                var message = $"receipt-{n}";
                outbox.Write(sc.IdempotencyKey, sc.RunId, sc.StepName, message);
                return message;
            }, new StepOptions { Effect = StepEffect.AtMostOnce });
            var doubled = await ctx.RunChildAsync<int, int>(Child, n);
            return $"{attempts}|{charge}|{go}|{approval.IsApproved}|{receipt}|{doubled}";
        })
        .AddWorkflow<int, int>(Child, async (ctx, n) => await ctx.StepAsync("double", async sc =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, sc.CancellationToken);
            return 2 * n;
        }));

    private sealed record EffectLine(string Key, string RunId, string Step, string Value);

    /// <summary>Every line of every process's file of a kind ("api", "outbox").</summary>
    private static List<EffectLine> EffectLines(string directory, string kind) =>
        [.. Directory.EnumerateFiles(directory, kind + "-*.log")
            .SelectMany(path =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                return reader.ReadToEnd().Split('\n');
            })
            .Select(line => line.Split('\t'))
            .Where(parts => parts.Length == 4)
            .Select(parts => new EffectLine(parts[0], parts[1], parts[2], parts[3]))];

    /// <summary>A fake external system's log in this process: one file per process (two processes must not append to
    /// one file through .NET, which writes at its own offset), one unbuffered write per line, done before the step returns.</summary>
    private sealed class EffectFile(string directory, string kind) : IDisposable
    {
        private readonly Lock _lock = new();
        private FileStream? _file;

        public void Write(string key, string runId, string step, string value)
        {
            var bytes = Encoding.UTF8.GetBytes($"{key}\t{runId}\t{step}\t{value}\n");
            lock (_lock)
            {
                _file ??= new FileStream(Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}.log")),
                    FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
                _file.Write(bytes);
            }
        }

        public void Dispose() => _file?.Dispose();
    }
}
