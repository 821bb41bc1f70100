using Keel.Storage;

namespace Keel.Sqlite;

public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc />
    public Task RecordWorkerAsync(WorkerInfo worker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var workflows = StoreJson.Serialize(worker.Workflows);
        return WriteAsync(w =>
        {
            var upsert = w.Command(
                "INSERT INTO workers (worker_id, host, pid, build, workflows, started_at, last_seen_at, stopped_at) " +
                "VALUES ($id, $host, $pid, $build, $workflows, $started, $seen, $stopped) " +
                "ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, build = excluded.build, workflows = excluded.workflows, " +
                "started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, stopped_at = excluded.stopped_at;");
            var p = upsert.Parameters;
            p.Set("$id", worker.WorkerId);
            p.Set("$host", worker.Host);
            p.Set("$pid", worker.ProcessId);
            p.Set("$build", worker.Build);
            p.Set("$workflows", workflows);
            p.Set("$started", Ms(worker.StartedAt));
            p.Set("$seen", Ms(worker.LastSeenAt));
            p.Set("$stopped", worker.StoppedAt is { } stopped ? Ms(stopped) : null);
            upsert.ExecuteNonQuery();
            var forget = w.Command("DELETE FROM workers WHERE last_seen_at < $before;");
            forget.Parameters.Set("$before", Ms(worker.LastSeenAt - TimeSpan.FromDays(30)));
            forget.ExecuteNonQuery();
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(DateTimeOffset seenSince, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<WorkerInfo>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT worker_id, host, pid, build, workflows, started_at, last_seen_at, stopped_at, " +
                                  "(SELECT count(*) FROM runs WHERE runs.owner = workers.worker_id) FROM workers " +
                                  "WHERE last_seen_at >= $since ORDER BY last_seen_at DESC, worker_id;";
            command.Parameters.AddWithValue("$since", Ms(seenSince));
            using var reader = command.ExecuteReader();
            var workers = new List<WorkerInfo>();
            while (reader.Read())
            {
                workers.Add(new WorkerInfo
                {
                    WorkerId = reader.GetString(0), Host = reader.GetString(1), ProcessId = reader.GetInt32(2),
                    Build = reader.IsDBNull(3) ? null : reader.GetString(3), Workflows = StoreJson.ReadStrings(reader.GetString(4)),
                    StartedAt = AtMs(reader, 5), LastSeenAt = AtMs(reader, 6), StoppedAt = FromMs(reader, 7), RunsHeld = reader.GetInt32(8),
                });
            }
            return workers;
        }, cancellationToken);
}
