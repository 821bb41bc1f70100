using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    /// <inheritdoc />
    public Task RecordWorkerAsync(WorkerInfo worker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return UseAsync(async (connection, ct) =>
        {
            using var upsert = new NpgsqlCommand(
                "INSERT INTO workers (worker_id, host, pid, build, workflows, started_at, last_seen_at, stopped_at) " +
                "VALUES (@id, @host, @pid, @build, @workflows, @started, @seen, @stopped) " +
                "ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, build = excluded.build, workflows = excluded.workflows, " +
                "started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, stopped_at = excluded.stopped_at; " +
                "DELETE FROM workers WHERE last_seen_at < @before;", connection);
            Add(upsert, "id", NpgsqlDbType.Text, worker.WorkerId);
            Add(upsert, "host", NpgsqlDbType.Text, worker.Host);
            Add(upsert, "pid", NpgsqlDbType.Integer, worker.ProcessId);
            Add(upsert, "build", NpgsqlDbType.Text, worker.Build);
            Add(upsert, "workflows", NpgsqlDbType.Array | NpgsqlDbType.Text, worker.Workflows.ToArray());
            Add(upsert, "started", NpgsqlDbType.Bigint, Ms(worker.StartedAt));
            Add(upsert, "seen", NpgsqlDbType.Bigint, Ms(worker.LastSeenAt));
            Add(upsert, "stopped", NpgsqlDbType.Bigint, worker.StoppedAt is { } stopped ? Ms(stopped) : (long?)null);
            Add(upsert, "before", NpgsqlDbType.Bigint, Ms(worker.LastSeenAt - TimeSpan.FromDays(30)));
            await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(DateTimeOffset seenSince, CancellationToken cancellationToken = default) =>
        UseAsync<IReadOnlyList<WorkerInfo>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand(
                "SELECT worker_id, host, pid, build, workflows, started_at, last_seen_at, stopped_at, " +
                "(SELECT count(*)::int FROM runs WHERE runs.owner = workers.worker_id) FROM workers " +
                "WHERE last_seen_at >= @since ORDER BY last_seen_at DESC, worker_id;", connection);
            Add(command, "since", NpgsqlDbType.Bigint, Ms(seenSince));
            var workers = new List<WorkerInfo>();
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var workflows = await reader.GetFieldValueAsync<string[]>(4, ct).ConfigureAwait(false);
                workers.Add(new WorkerInfo
                {
                    WorkerId = reader.GetString(0), Host = reader.GetString(1), ProcessId = reader.GetInt32(2),
                    Build = NullableString(reader, 3), Workflows = workflows,
                    StartedAt = FromMs(reader, 5)!.Value, LastSeenAt = FromMs(reader, 6)!.Value, StoppedAt = FromMs(reader, 7),
                    RunsHeld = reader.GetInt32(8),
                });
            }
            return workers;
        }, cancellationToken);
}
