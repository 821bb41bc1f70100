using System.Diagnostics;
using System.Text.Json.Nodes;
using Keel.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keel.Bench;

/// <summary>W1: one run of 100 sequential steps, 20 runs one after another: per-step overhead and commits per step.</summary>
internal static class W1
{
    private static long[] s_completed = [];
    private static long[] s_bodyStarted = [];

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        var steps = options.Steps ?? 100;
        var runs = options.Runs ?? 20;
        const int warmups = 2;
        s_completed = new long[steps + 1];
        s_bodyStarted = new long[steps + 1];
        // Wrapped only to count creates and claims (PostgreSQL's commit counter covers appends only).
        var counting = new TimingStore(target.CreateStore(), Stopwatch.StartNew(), null);
        await using var keel = await KeelHost.StartAsync(k => k
            .UseStore(_ => counting)
            .AddWorkflow<int, int>("w1", async (ctx, n) =>
            {
                s_completed[0] = Stopwatch.GetTimestamp();
                var sum = 0;
                for (var i = 1; i <= n; i++)
                {
                    var index = i;
                    sum += await ctx.StepAsync($"s{index}", _ =>
                    {
                        s_bodyStarted[index] = Stopwatch.GetTimestamp();
                        return Task.FromResult(index);
                    });
                    s_completed[index] = Stopwatch.GetTimestamp();
                }
                return sum;
            }));
        var store = counting.Inner;

        var stepUs = new List<double>(steps * runs);
        var dispatchUs = new List<double>(steps * runs);
        var journalUs = new List<double>(steps * runs);
        var runMs = new List<double>(runs);
        long commitsBefore = 0, createsBefore = 0, claimsBefore = 0, claimCallsBefore = 0, getRunBefore = 0, renewBefore = 0;
        for (var r = 0; r < warmups + runs; r++)
        {
            if (r == warmups)
            {
                commitsBefore = BenchTarget.Commits(store);
                createsBefore = counting.CreateCalls;
                claimsBefore = counting.ClaimsWithRuns;
                (claimCallsBefore, getRunBefore, renewBefore) = (counting.ClaimCalls, counting.GetRunCalls, counting.RenewCalls);
            }
            var started = Stopwatch.GetTimestamp();
            var start = await keel.Client.StartAsync("w1", steps);
            await keel.Client.GetResultAsync<int>(start.RunId);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (r < warmups)
            {
                BenchUtil.Log($"w1 warm-up run {r + 1}: {elapsed.TotalMilliseconds:F1} ms");
                continue;
            }
            runMs.Add(elapsed.TotalMilliseconds);
            for (var i = 1; i <= steps; i++)
            {
                stepUs.Add(BenchUtil.TicksToUs(s_completed[i] - s_completed[i - 1]));
                dispatchUs.Add(BenchUtil.TicksToUs(s_bodyStarted[i] - s_completed[i - 1]));
                journalUs.Add(BenchUtil.TicksToUs(s_completed[i] - s_bodyStarted[i]));
            }
            BenchUtil.Log($"w1 run {r - warmups + 1}/{runs}: {elapsed.TotalMilliseconds:F1} ms, step p50 {BenchUtil.Median(stepUs.TakeLast(steps).ToList()):F0} us");
        }
        var appendCommits = BenchTarget.Commits(store) - commitsBefore;
        var creates = counting.CreateCalls - createsBefore;
        var claims = counting.ClaimsWithRuns - claimsBefore;
        var (claimCalls, getRunCalls, renewCalls) = (counting.ClaimCalls - claimCallsBefore, counting.GetRunCalls - getRunBefore, counting.RenewCalls - renewBefore);
        // SQLite counts every write transaction; PostgreSQL's counter is the append writer's round trips (one
        // transaction each), so the creates and the claims that took a run (one transaction each) are added.
        var commits = target.IsPostgres ? appendCommits + creates + claims : appendCommits;
        var totalSteps = (double)steps * runs;

        var raw = target.IsPostgres
            ? await RawPostgresCommitUsAsync(target.Sibling("floor"), 500)
            : RawSqliteCommitUs(Path.Combine(dataDir, "w1-raw.db"), options.Durability, 500);
        var storeAlone = await StoreAppendUsAsync(target.Sibling("floor"), 500);
        BenchUtil.Log($"w1 store API alone (one claimed run, sequential AppendAsync, no engine): p50 {storeAlone.P50:F0} us p99 {storeAlone.P99:F0} us");
        BenchUtil.Log($"w1 breakdown (p50): await->body start {BenchUtil.Median(dispatchUs):F0} us, body->delivered (journal commit + hand-offs) {BenchUtil.Median(journalUs):F0} us; " +
                      $"raw {target.Store} fenced append commit alone p50 {raw.P50:F0} us p99 {raw.P99:F0} us; commits {commits} ({creates} creates, {claims} claims)");

        result["step_us_p50"] = BenchUtil.Round(BenchUtil.Percentile(stepUs, 50));
        result["step_us_p99"] = BenchUtil.Round(BenchUtil.Percentile(stepUs, 99));
        result["run_ms_p50"] = BenchUtil.Round(BenchUtil.Percentile(runMs, 50), 2);
        result["commits_per_step"] = BenchUtil.Round(commits / totalSteps, 3);
        result["detail"] = new JsonObject
        {
            ["dispatch_us_p50"] = BenchUtil.Round(BenchUtil.Percentile(dispatchUs, 50)),
            ["journal_us_p50"] = BenchUtil.Round(BenchUtil.Percentile(journalUs, 50)),
            ["journal_us_p99"] = BenchUtil.Round(BenchUtil.Percentile(journalUs, 99)),
            ["raw_commit_us_p50"] = BenchUtil.Round(raw.P50),
            ["raw_commit_us_p99"] = BenchUtil.Round(raw.P99),
            ["store_append_us_p50"] = BenchUtil.Round(storeAlone.P50),
            ["store_append_us_p99"] = BenchUtil.Round(storeAlone.P99),
            ["commits"] = commits,
            ["commits_note"] = target.IsPostgres
                ? "PostgresWorkflowStore.AppendBatches (group-commit round trips, one transaction each) + creates + claims that took a run"
                : "SqliteWorkflowStore.Commits",
            ["claim_calls"] = claimCalls,
            ["get_run_calls"] = getRunCalls,
            ["renew_calls"] = renewCalls,
            ["run_ms_p99"] = BenchUtil.Round(BenchUtil.Percentile(runMs, 99), 2),
        };
        settings["runs"] = runs;
        settings["steps"] = steps;
        settings["warmup_runs"] = warmups;
        settings["repetitions"] = 1;
    }

    /// <summary>
    /// The floor: what one journal append costs in SQLite alone, with the store's pragmas and statements
    /// (BEGIN IMMEDIATE; fenced UPDATE ... RETURNING; INSERT; COMMIT), on one connection, no engine.
    /// </summary>
    private static (double P50, double P99) RawSqliteCommitUs(string db, SqliteDurability durability, int count)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL;");
        Exec(connection, $"PRAGMA synchronous={(durability == SqliteDurability.Full ? "FULL" : "NORMAL")};");
        Exec(connection, "CREATE TABLE runs (run_id TEXT PRIMARY KEY, owner TEXT, lease_epoch INTEGER, next_index INTEGER NOT NULL DEFAULT 0, updated_at INTEGER);" +
                         "CREATE TABLE journal (run_id TEXT NOT NULL, idx INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, " +
                         "recorded_at INTEGER NOT NULL, payload TEXT, PRIMARY KEY (run_id, idx)) WITHOUT ROWID;" +
                         "INSERT INTO runs VALUES ('r', 'o', 1, 0, 0);");
        using var update = connection.CreateCommand();
        update.CommandText = "UPDATE runs SET next_index = next_index + 1, updated_at = $at WHERE run_id = 'r' AND owner = 'o' AND lease_epoch = 1 RETURNING next_index;";
        update.Parameters.AddWithValue("$at", 0L);
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO journal VALUES ('r', $idx, $idx, 'StepCompleted', 's', 0, '1');";
        var idx = insert.Parameters.AddWithValue("$idx", 0L);
        var samples = new List<double>(count);
        for (var i = 0; i < count + 20; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            using (var tx = connection.BeginTransaction(deferred: false))
            {
                update.Transaction = tx;
                insert.Transaction = tx;
                var next = (long)update.ExecuteScalar()!;
                idx.Value = next;
                insert.ExecuteNonQuery();
                tx.Commit();
            }
            if (i >= 20)
            {
                samples.Add(BenchUtil.TicksToUs(Stopwatch.GetTimestamp() - t0));
            }
        }
        return (BenchUtil.Percentile(samples, 50), BenchUtil.Percentile(samples, 99));
    }

    /// <summary>The store API without the engine: one claimed run appending one step entry at a time (W1's commit pattern).</summary>
    private static async Task<(double P50, double P99)> StoreAppendUsAsync(BenchTarget floor, int count)
    {
        await using var store = floor.CreateStore();
        await store.InitializeAsync();
        var now = TimeProvider.System.GetUtcNow();
        await store.CreateRunAsync(new Keel.Storage.NewRun { RunId = "floor", WorkflowName = "w", Input = "0", Priority = 0, CreatedAt = now });
        var claimed = await store.ClaimRunsAsync(new Keel.Storage.ClaimRequest
        {
            Owner = "bench", WorkflowNames = ["w"], MaxRuns = 1, Now = now, LeaseExpiresAt = now.AddMinutes(5),
        });
        var lease = claimed.Single().Lease;
        var samples = new List<double>(count);
        for (var i = 1; i <= count + 20; i++)
        {
            var entry = new JournalEntry
            {
                Sequence = i, Kind = JournalEntryKind.StepCompleted, Name = "s", Attempt = 1,
                StartedAt = TimeProvider.System.GetUtcNow(), RecordedAt = TimeProvider.System.GetUtcNow(), Payload = "1",
            };
            var t0 = Stopwatch.GetTimestamp();
            if (!await store.AppendAsync(lease, [entry], null))
            {
                throw new InvalidOperationException("lease lost");
            }
            if (i > 20)
            {
                samples.Add(BenchUtil.TicksToUs(Stopwatch.GetTimestamp() - t0));
            }
        }
        return (BenchUtil.Percentile(samples, 50), BenchUtil.Percentile(samples, 99));
    }

    /// <summary>
    /// The PostgreSQL floor: the store's append shape (fenced UPDATE ... RETURNING and INSERT in one statement, one
    /// autocommit transaction, one round trip) on one connection of its own, in a scratch schema, no engine.
    /// </summary>
    private static async Task<(double P50, double P99)> RawPostgresCommitUsAsync(BenchTarget floor, int count)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(floor.ConnectionString) { Pooling = false, ApplicationName = "keel-bench", MaxAutoPrepare = 8 };
        await using var connection = new Npgsql.NpgsqlConnection(builder.ToString());
        await connection.OpenAsync();
        async Task ExecAsync(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
        await ExecAsync($"CREATE SCHEMA {floor.Schema}; SET search_path TO {floor.Schema};");
        await ExecAsync("CREATE TABLE runs (run_id text PRIMARY KEY, owner text, lease_epoch bigint, next_index bigint NOT NULL DEFAULT 0, updated_at bigint);" +
                        "CREATE TABLE journal (run_id text NOT NULL, idx bigint NOT NULL, seq integer NOT NULL, kind text NOT NULL, name text NOT NULL, " +
                        "recorded_at bigint NOT NULL, payload text, PRIMARY KEY (run_id, idx));" +
                        "INSERT INTO runs VALUES ('r', 'o', 1, 0, 0);");
        await using var append = new Npgsql.NpgsqlCommand(
            "WITH fence AS (UPDATE runs SET next_index = next_index + 1, updated_at = @at WHERE run_id = 'r' AND owner = 'o' AND lease_epoch = 1 RETURNING next_index) " +
            "INSERT INTO journal SELECT 'r', fence.next_index, fence.next_index, 'StepCompleted', 's', @at, '1' FROM fence;", connection);
        append.Parameters.Add(new Npgsql.NpgsqlParameter<long>("at", NpgsqlTypes.NpgsqlDbType.Bigint) { TypedValue = 0 });
        var samples = new List<double>(count);
        for (var i = 0; i < count + 20; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await append.ExecuteNonQueryAsync();
            if (i >= 20)
            {
                samples.Add(BenchUtil.TicksToUs(Stopwatch.GetTimestamp() - t0));
            }
        }
        await ExecAsync($"DROP SCHEMA {floor.Schema} CASCADE;");
        return (BenchUtil.Percentile(samples, 50), BenchUtil.Percentile(samples, 99));
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
