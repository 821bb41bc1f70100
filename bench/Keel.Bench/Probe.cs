using System.Diagnostics;
using System.Globalization;
using Keel.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keel.Bench;

/// <summary>
/// `probe`: attributes the cost of one journal append inside a group commit, on the store's real schema, by
/// replaying the store's statements with one change at a time. Diagnostic only (not a BENCHMARKS.md workload).
/// </summary>
internal static class Probe
{
    // The store's FencedAppendSql / InsertEntrySql as they were when this probe was written (schema 6).
    private const string FencedAppendSql =
        "UPDATE runs SET next_index = next_index + $count, " +
        "recovery_attempts = CASE WHEN $count > 0 THEN 0 ELSE recovery_attempts END, " +
        "status = COALESCE($status, status), result = COALESCE($result, result), error = COALESCE($error, error), " +
        "status_reason = COALESCE($reason, status_reason), updated_at = $at, " +
        "completed_at = CASE WHEN $terminal = 1 THEN $at ELSE completed_at END, " +
        "due_at = CASE WHEN $runnable = 0 THEN NULL WHEN $release = 1 THEN COALESCE($due, $at) ELSE due_at END, " +
        "owner = CASE WHEN $release = 1 THEN NULL ELSE owner END, " +
        "lease_expires_at = CASE WHEN $release = 1 THEN NULL ELSE lease_expires_at END " +
        "WHERE run_id = $id AND owner = $owner AND lease_epoch = $epoch RETURNING next_index;";

    private const string NarrowAppendSql =
        "UPDATE runs SET next_index = next_index + $count, recovery_attempts = 0, updated_at = $at " +
        "WHERE run_id = $id AND owner = $owner AND lease_epoch = $epoch RETURNING next_index;";

    private const string InsertEntrySql =
        "INSERT INTO journal (run_id, idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at) " +
        "VALUES ($run, $idx, $seq, $kind, $name, $attempt, $started, $recorded, $payload, $error, $retry);";

    public static async Task<int> RunAsync(BenchOptions options, string dataDir)
    {
        const int runs = 200;
        const int transactions = 60;
        var variants = new (string Name, bool Savepoints, bool Narrow, bool Reuse, bool Update)[]
        {
            ("store as is: SAVEPOINT + fenced UPDATE (13 params) + INSERT, params re-added", true, false, false, true),
            ("SAVEPOINT/RELEASE as cached prepared commands, rest as is", true, false, false, true),
            ("no SAVEPOINT per op", false, false, false, true),
            ("no SAVEPOINT, narrow UPDATE (next_index, updated_at only)", false, true, false, true),
            ("no SAVEPOINT, narrow UPDATE, parameters bound once (set .Value)", false, true, true, true),
            ("INSERT only (no fence UPDATE), parameters bound once", false, true, true, false),
        };
        foreach (var variant in variants)
        {
            var db = Path.Combine(dataDir, $"probe-{Array.IndexOf(variants, variant)}.db");
            await using (var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db, Durability = options.Durability }))
            {
                await store.InitializeAsync(); // the real schema
            }
            using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
            c.Open();
            Exec(c, "PRAGMA journal_mode=WAL;");
            Exec(c, $"PRAGMA synchronous={(options.Durability == SqliteDurability.Full ? "FULL" : "NORMAL")};");
            // The statements probed are the store's of its first sessions, which counted entries in the run row
            // (schema 7 dropped that column: plain appends now only read the fence). Put it back on this scratch copy.
            Exec(c, "ALTER TABLE runs ADD COLUMN next_index INTEGER NOT NULL DEFAULT 0;");
            using (var tx = c.BeginTransaction())
            {
                for (var r = 0; r < runs; r++)
                {
                    Exec(c, string.Create(CultureInfo.InvariantCulture,
                        $"INSERT INTO runs (run_id, workflow, status, input, priority, created_at, updated_at, due_at, owner, lease_epoch, lease_expires_at) " +
                        $"VALUES ('{Guid.CreateVersion7():N}', 'w', 'Running', '10', 0, {r}, {r}, {r}, 'owner', 1, 99999999999999);"), tx);
                }
                tx.Commit();
            }
            var ids = new List<string>();
            using (var q = c.CreateCommand())
            {
                q.CommandText = "SELECT run_id FROM runs";
                using var reader = q.ExecuteReader();
                while (reader.Read())
                {
                    ids.Add(reader.GetString(0));
                }
            }
            using var update = c.CreateCommand();
            update.CommandText = variant.Narrow ? NarrowAppendSql : FencedAppendSql;
            using var insert = c.CreateCommand();
            insert.CommandText = InsertEntrySql;
            var next = new long[runs];
            var cachedSavepoints = variant.Name.StartsWith("SAVEPOINT/RELEASE as cached", StringComparison.Ordinal);
            using var save = c.CreateCommand();
            save.CommandText = "SAVEPOINT op;";
            using var release = c.CreateCommand();
            release.CommandText = "RELEASE op;";
            var perOp = new List<double>();
            var commitUs = new List<double>();
            for (var t = 0; t < transactions + 5; t++)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var tx = c.BeginTransaction(deferred: false);
                update.Transaction = tx;
                insert.Transaction = tx;
                save.Transaction = tx;
                release.Transaction = tx;
                for (var r = 0; r < runs; r++)
                {
                    if (variant.Savepoints)
                    {
                        if (cachedSavepoints)
                        {
                            save.ExecuteNonQuery();
                        }
                        else
                        {
                            tx.Save("op");
                        }
                    }
                    long index;
                    if (variant.Update)
                    {
                        BindUpdate(update, variant.Narrow, variant.Reuse, ids[r]);
                        index = (long)update.ExecuteScalar()! - 1;
                    }
                    else
                    {
                        index = next[r]++;
                    }
                    BindInsert(insert, variant.Reuse, ids[r], index, t);
                    insert.ExecuteNonQuery();
                    if (variant.Savepoints)
                    {
                        if (cachedSavepoints)
                        {
                            release.ExecuteNonQuery();
                        }
                        else
                        {
                            tx.Release("op");
                        }
                    }
                }
                var t1 = Stopwatch.GetTimestamp();
                tx.Commit();
                var t2 = Stopwatch.GetTimestamp();
                if (t >= 5)
                {
                    perOp.Add(BenchUtil.TicksToUs(t1 - t0) / runs);
                    commitUs.Add(BenchUtil.TicksToUs(t2 - t1));
                }
            }
            BenchUtil.Log($"probe {variant.Name}: {BenchUtil.Median(perOp):F1} us/append of statement work, " +
                          $"COMMIT of {runs} appends {BenchUtil.Median(commitUs):F0} us ({BenchUtil.Median(commitUs) / runs:F1} us/append) " +
                          $"=> {1e6 / (BenchUtil.Median(perOp) + BenchUtil.Median(commitUs) / runs):F0} appends/s on one writer");
        }
        return 0;
    }

    private static void BindUpdate(SqliteCommand update, bool narrow, bool reuse, string id)
    {
        var p = update.Parameters;
        if (reuse && p.Count > 0)
        {
            p["$at"].Value = 1L;
            p["$id"].Value = id;
            return;
        }
        p.Clear();
        p.AddWithValue("$count", 1);
        if (!narrow)
        {
            p.AddWithValue("$status", DBNull.Value);
            p.AddWithValue("$result", DBNull.Value);
            p.AddWithValue("$error", DBNull.Value);
            p.AddWithValue("$reason", DBNull.Value);
            p.AddWithValue("$terminal", 0);
            p.AddWithValue("$runnable", 1);
            p.AddWithValue("$release", 0);
            p.AddWithValue("$due", DBNull.Value);
        }
        p.AddWithValue("$at", 1L);
        p.AddWithValue("$id", id);
        p.AddWithValue("$owner", "owner");
        p.AddWithValue("$epoch", 1L);
    }

    private static void BindInsert(SqliteCommand insert, bool reuse, string id, long index, int seq)
    {
        var p = insert.Parameters;
        if (reuse && p.Count > 0)
        {
            p["$run"].Value = id;
            p["$idx"].Value = index;
            p["$seq"].Value = seq;
            return;
        }
        p.Clear();
        p.AddWithValue("$run", id);
        p.AddWithValue("$idx", index);
        p.AddWithValue("$seq", seq);
        p.AddWithValue("$kind", "StepCompleted");
        p.AddWithValue("$name", "s1");
        p.AddWithValue("$attempt", 1);
        p.AddWithValue("$started", 1L);
        p.AddWithValue("$recorded", 1L);
        p.AddWithValue("$payload", "1");
        p.AddWithValue("$error", DBNull.Value);
        p.AddWithValue("$retry", DBNull.Value);
    }

    private static void Exec(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
