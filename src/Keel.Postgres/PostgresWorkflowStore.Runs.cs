using System.Globalization;
using System.Text;
using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    /// <summary>Creates a run unless one has the id (also the successor of a run that continues as new). A run with an
    /// owner starts held by it, as its first claim would leave it.</summary>
    private const string InsertRunSql =
        "INSERT INTO runs (run_id, workflow, status, input, priority, created_at, updated_at, due_at, parent_run_id, parent_seq, " +
        "  owner, lease_epoch, lease_expires_at, recovery_attempts, build_id, trace_parent) " +
        "VALUES (@id, @workflow, CASE WHEN @owner IS NULL THEN 'Pending' ELSE 'Running' END, @input, @priority, @now, @now, @now, @parent, @parentSeq, " +
        "  @owner, CASE WHEN @owner IS NULL THEN 0 ELSE 1 END, @expires, 0, @build, @trace) " +
        "ON CONFLICT (run_id) DO NOTHING";

    /// <summary>
    /// <see cref="InsertRunSql"/> for a group-commit batch of new runs, from one array per column; returns the runs it
    /// created. Rows go in run id order, so two batches that create the same ids wait on each other in one order.
    /// </summary>
    private const string InsertRunsSql =
        "INSERT INTO runs (run_id, workflow, status, input, priority, created_at, updated_at, due_at, parent_run_id, parent_seq, " +
        "  owner, lease_epoch, lease_expires_at, recovery_attempts, build_id, trace_parent) " +
        "SELECT n.run_id, n.workflow, CASE WHEN n.owner IS NULL THEN 'Pending' ELSE 'Running' END, n.input, n.priority, " +
        "  n.created_at, n.created_at, n.created_at, n.parent, n.parent_seq, " +
        "  n.owner, CASE WHEN n.owner IS NULL THEN 0 ELSE 1 END, n.expires, 0, n.build, n.trace " +
        "FROM unnest(@ids, @workflows, @inputs, @priorities, @nows, @parents, @parentSeqs, @owners, @expires, @builds, @traces) " +
        "  AS n(run_id, workflow, input, priority, created_at, parent, parent_seq, owner, expires, build, trace) " +
        "ORDER BY n.run_id ON CONFLICT (run_id) DO NOTHING RETURNING " + RunColumns + ";";

    /// <inheritdoc />
    public Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        return _creates is null ? CreateDirectAsync(run, cancellationToken) : CreateBatchedAsync(run, cancellationToken);
    }

    /// <summary>Group commit: the run is created in one transaction with whatever other creates are queued (and the
    /// insert trigger's NOTIFY, which serializes commits, is paid once for them all).</summary>
    private async Task<CreateRunResult> CreateBatchedAsync(NewRun run, CancellationToken cancellationToken)
    {
        var created = await GroupCommitAsync(_creates!, run, cancellationToken).ConfigureAwait(false);
        return created is not null ? Created(run, created) : await ExistingRunAsync(run.RunId, cancellationToken).ConfigureAwait(false);
    }

    private static CreateRunResult Created(NewRun run, RunInfo created) =>
        new(created, true) { Lease = run.HeldLease };

    private Task<CreateRunResult> CreateDirectAsync(NewRun run, CancellationToken cancellationToken) =>
        UseAsync(async (connection, ct) =>
        {
            // The insert trigger NOTIFYs idle workers when an unheld run is created.
            using (var insert = new NpgsqlCommand(InsertRunSql + $" RETURNING {RunColumns};", connection))
            {
                AddNewRun(insert.Parameters, run);
                var reader = await insert.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                if (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    return Created(run, ReadRun(reader));
                }
            }
            return await ExistingRunAsync(connection, run.RunId, ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>The parameters of <see cref="InsertRunSql"/>.</summary>
    private static void AddNewRun(NpgsqlParameterCollection p, NewRun run)
    {
        Add(p, "id", NpgsqlDbType.Text, run.RunId);
        Add(p, "workflow", NpgsqlDbType.Text, run.WorkflowName);
        Add(p, "input", NpgsqlDbType.Text, run.Input);
        Add(p, "priority", NpgsqlDbType.Integer, run.Priority);
        Add(p, "now", NpgsqlDbType.Bigint, Ms(run.CreatedAt));
        Add(p, "parent", NpgsqlDbType.Text, run.ParentRunId);
        Add(p, "parentSeq", NpgsqlDbType.Integer, run.ParentSequence);
        Add(p, "owner", NpgsqlDbType.Text, run.Owner);
        Add(p, "expires", NpgsqlDbType.Bigint, Ms(run.HeldUntil));
        Add(p, "build", NpgsqlDbType.Text, run.BuildId);
        Add(p, "trace", NpgsqlDbType.Text, run.TraceParent);
    }

    private Task<CreateRunResult> ExistingRunAsync(string runId, CancellationToken cancellationToken) =>
        UseAsync((connection, ct) => ExistingRunAsync(connection, runId, ct), cancellationToken);

    // It existed: a new statement sees the row even if its creator committed after the insert began.
    private async Task<CreateRunResult> ExistingRunAsync(NpgsqlConnection connection, string runId, CancellationToken cancellationToken)
    {
        var existing = await GetRunAsync(connection, runId, cancellationToken).ConfigureAwait(false)
            ?? throw new StorageException($"Run '{runId}' exists and vanished while being read ({_where}).", isTransient: true);
        return new CreateRunResult(existing, false);
    }

    /// <summary>Writes a group-commit batch of new runs; null for each run whose id existed (also a repeated id in the
    /// batch, after its first).</summary>
    private static async Task<RunInfo?[]> InsertRunsAsync(NpgsqlConnection connection, IReadOnlyList<NewRun> runs)
    {
        using var insert = new NpgsqlCommand(InsertRunsSql, connection);
        Add(insert, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.RunId).ToArray());
        Add(insert, "workflows", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.WorkflowName).ToArray());
        Add(insert, "inputs", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.Input).ToArray());
        Add(insert, "priorities", NpgsqlDbType.Array | NpgsqlDbType.Integer, runs.Select(r => r.Priority).ToArray());
        Add(insert, "nows", NpgsqlDbType.Array | NpgsqlDbType.Bigint, runs.Select(r => Ms(r.CreatedAt)).ToArray());
        Add(insert, "parents", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.ParentRunId).ToArray());
        Add(insert, "parentSeqs", NpgsqlDbType.Array | NpgsqlDbType.Integer, runs.Select(r => r.ParentSequence).ToArray());
        Add(insert, "owners", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.Owner).ToArray());
        Add(insert, "expires", NpgsqlDbType.Array | NpgsqlDbType.Bigint, runs.Select(r => Ms(r.HeldUntil)).ToArray());
        Add(insert, "builds", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.BuildId).ToArray());
        Add(insert, "traces", NpgsqlDbType.Array | NpgsqlDbType.Text, runs.Select(r => r.TraceParent).ToArray());
        var created = new Dictionary<string, RunInfo>(StringComparer.Ordinal);
        var reader = await insert.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var run = ReadRun(reader);
                created[run.RunId] = run;
            }
        }
        return [.. runs.Select(r => created.Remove(r.RunId, out var run) ? run : null)];
    }

    /// <inheritdoc />
    public Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync((connection, ct) => GetRunAsync(connection, runId, ct), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunInfo>> GetRunsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        return UseAsync<IReadOnlyList<RunInfo>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand($"SELECT {ReadColumns} FROM runs WHERE run_id = ANY(@ids);", connection);
            Add(command, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, runIds.ToArray());
            var runs = new List<RunInfo>(runIds.Count);
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                runs.Add(ReadRun(reader, withStuckChild: true));
            }
            return runs;
        }, cancellationToken);
    }

    private static async Task<RunInfo?> GetRunAsync(NpgsqlConnection connection, string runId, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand($"SELECT {ReadColumns} FROM runs WHERE run_id = @id;", connection);
        Add(command, "id", NpgsqlDbType.Text, runId);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRun(reader, withStuckChild: true) : null;
    }

    /// <inheritdoc />
    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var cursor = RunPageCursor.Decode(query.Cursor);
        return UseAsync(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand { Connection = connection };
            var sql = new StringBuilder($"SELECT {ReadColumns} FROM runs WHERE true");
            AppendFilters(sql, command, query);
            if (cursor is { } c)
            {
                sql.Append(" AND (created_at, run_id) < (@cursorAt, @cursorId)");
                Add(command, "cursorAt", NpgsqlDbType.Bigint, c.CreatedAtMs);
                Add(command, "cursorId", NpgsqlDbType.Text, c.RunId);
            }
            sql.Append(" ORDER BY created_at DESC, run_id DESC LIMIT @limit;");
            Add(command, "limit", NpgsqlDbType.Integer, query.Limit + 1);
            command.CommandText = sql.ToString();
            var runs = new List<RunInfo>();
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    runs.Add(ReadRun(reader, withStuckChild: true));
                }
            }
            return RunPageCursor.ToPage(runs, query.Limit);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<RunStatus, int>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return UseAsync<IReadOnlyDictionary<RunStatus, int>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand { Connection = connection };
            var sql = new StringBuilder("SELECT status, count(*)::int FROM runs WHERE true");
            AppendFilters(sql, command, query);
            command.CommandText = sql.Append(" GROUP BY status;").ToString();
            var counts = new Dictionary<RunStatus, int>();
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    counts[Enum.Parse<RunStatus>(reader.GetString(0))] = reader.GetInt32(1);
                }
            }
            return counts;
        }, cancellationToken);
    }

    /// <summary>The filters of a list or a count (not its paging).</summary>
    private static void AppendFilters(StringBuilder sql, NpgsqlCommand command, RunQuery query)
    {
        if (query.Statuses.Count > 0)
        {
            sql.Append(" AND status = ANY(@statuses)");
            Add(command, "statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, query.Statuses.Select(s => s.ToString()).ToArray());
        }
        if (query.WorkflowName is not null)
        {
            sql.Append(" AND workflow = @workflow");
            Add(command, "workflow", NpgsqlDbType.Text, query.WorkflowName);
        }
        if (query.WaitingForPerson)
        {
            sql.Append(" AND (status IN ('NeedsAttention', 'Blocked') OR status NOT IN ('Completed', 'Failed', 'Cancelled') AND " +
                       "EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = runs.run_id AND a.decided_at IS NULL))");
        }
        if (query.CreatedAfter is { } after)
        {
            sql.Append(" AND created_at >= @after");
            Add(command, "after", NpgsqlDbType.Bigint, Ms(after));
        }
        if (query.CreatedBefore is { } before)
        {
            sql.Append(" AND created_at < @before");
            Add(command, "before", NpgsqlDbType.Bigint, Ms(before));
        }
    }

    // The purged runs' messages go when every link to them is a purged run's. The lock (which an insert into messages
    // waits for, and which waits for the inserts in flight: a put holds its insert's lock until it commits its links) keeps
    // a put from linking a message this statement deletes: its links are committed and seen here, or it waits and
    // inserts the message again. Puts are rare and short; so is this.
    private const string PurgeSql =
        "LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE; " +
        "WITH doomed AS (SELECT run_id FROM runs WHERE completed_at IS NOT NULL AND completed_at < @before " +
        "  AND status IN ('Completed', 'Failed', 'Cancelled') ORDER BY completed_at LIMIT @limit FOR UPDATE SKIP LOCKED), " +
        "entries AS (DELETE FROM journal WHERE run_id IN (SELECT run_id FROM doomed)), " +
        "inbox AS (DELETE FROM signals WHERE run_id IN (SELECT run_id FROM doomed)), " +
        "asked AS (DELETE FROM approvals WHERE run_id IN (SELECT run_id FROM doomed)), " +
        "unused AS (DELETE FROM messages m WHERE m.hash IN (SELECT l.hash FROM run_messages l WHERE l.run_id IN (SELECT run_id FROM doomed)) " +
        "  AND NOT EXISTS (SELECT 1 FROM run_messages o WHERE o.hash = m.hash AND o.run_id NOT IN (SELECT run_id FROM doomed))), " +
        "links AS (DELETE FROM run_messages WHERE run_id IN (SELECT run_id FROM doomed)) " +
        "DELETE FROM runs WHERE run_id IN (SELECT run_id FROM doomed);";

    // A run no live worker holds is paused here, and a stale holder fenced out (epoch bump); a held one is flagged.
    private const string PauseSql =
        "UPDATE runs SET " +
        "pause_requested = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @at) THEN false ELSE true END, " +
        "status = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @at) THEN 'Paused' ELSE status END, " +
        "due_at = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @at) THEN NULL ELSE due_at END, " +
        "lease_epoch = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @at) THEN lease_epoch + 1 ELSE lease_epoch END, " +
        "owner = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @at) THEN NULL ELSE owner END, " +
        "lease_expires_at = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @at) THEN NULL ELSE lease_expires_at END, updated_at = @at " +
        "WHERE run_id = @id AND status IN ('Pending', 'Running', 'Waiting') RETURNING status;";

    private const string ResumeSql =
        "UPDATE runs SET status = CASE WHEN status = 'Paused' THEN 'Running' ELSE status END, " +
        "due_at = CASE WHEN status = 'Paused' THEN @at ELSE due_at END, pause_requested = false, updated_at = @at " +
        "WHERE run_id = @id AND (status = 'Paused' OR pause_requested = true) RETURNING status;";

    /// <inheritdoc />
    public Task<PauseOutcome> RequestPauseAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ChangePauseAsync(PauseSql, runId, at, status => status == "Paused" ? PauseOutcome.Done : PauseOutcome.Requested, cancellationToken);

    /// <inheritdoc />
    public Task<PauseOutcome> ResumeAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ChangePauseAsync(ResumeSql, runId, at, _ => PauseOutcome.Done, cancellationToken);

    private Task<PauseOutcome> ChangePauseAsync(string sql, string runId, DateTimeOffset at, Func<string, PauseOutcome> changed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync(async (connection, ct) =>
        {
            using (var change = new NpgsqlCommand(sql, connection))
            {
                Add(change, "id", NpgsqlDbType.Text, runId);
                Add(change, "at", NpgsqlDbType.Bigint, Ms(at));
                if (await change.ExecuteScalarAsync(ct).ConfigureAwait(false) is string status)
                {
                    return changed(status);
                }
            }
            using var select = new NpgsqlCommand("SELECT status FROM runs WHERE run_id = @id;", connection);
            Add(select, "id", NpgsqlDbType.Text, runId);
            return await select.ExecuteScalarAsync(ct).ConfigureAwait(false) is string current
                ? Enum.Parse<RunStatus>(current).IsTerminal() ? PauseOutcome.AlreadyFinished : PauseOutcome.NotApplicable
                : PauseOutcome.NotFound;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<RunInfo?> SetPriorityAsync(string runId, int priority, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync(async (connection, ct) =>
        {
            using var update = new NpgsqlCommand($"UPDATE runs SET priority = @priority, updated_at = @at WHERE run_id = @id RETURNING {RunColumns};", connection);
            Add(update, "priority", NpgsqlDbType.Integer, priority);
            Add(update, "at", NpgsqlDbType.Bigint, Ms(at));
            Add(update, "id", NpgsqlDbType.Text, runId);
            var reader = await update.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadRun(reader) : null;
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> PurgeFinishedRunsAsync(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            using var purge = new NpgsqlCommand(PurgeSql, connection, transaction);
            Add(purge, "before", NpgsqlDbType.Bigint, Ms(finishedBefore));
            Add(purge, "limit", NpgsqlDbType.Integer, batchSize);
            var purged = await purge.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return purged;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<UnblockOutcome> UnblockAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(action);
        return UseAsync(async (connection, ct) =>
        {
            // Suspect (interrupted twice) with a fresh budget: the first worker to take it runs it alone.
            var (reopened, status) = await ReopenAsync(connection, runId, RunStatus.Blocked, "interrupted = 2", JournalEntryKind.RunUnblocked, action, at, ct)
                .ConfigureAwait(false);
            return reopened ? UnblockOutcome.Unblocked
                : status is not { } current ? UnblockOutcome.NotFound
                : current.IsTerminal() ? UnblockOutcome.AlreadyFinished : UnblockOutcome.NotBlocked;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<RetryOutcome> RetryAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(action);
        return UseAsync(async (connection, ct) =>
        {
            var (reopened, status) = await ReopenAsync(connection, runId, RunStatus.Failed, "interrupted = 0, result = NULL, completed_at = NULL",
                JournalEntryKind.RunRetried, action, at, ct).ConfigureAwait(false);
            return reopened ? RetryOutcome.Retried : status is null ? RetryOutcome.NotFound : RetryOutcome.NotFailed;
        }, cancellationToken);
    }

    /// <summary>
    /// A person's unblock or retry, in one statement: a run in <paramref name="from"/> becomes runnable now with a fresh
    /// recovery budget (and <paramref name="also"/> set; the due time wakes the workers by the trigger's NOTIFY), and the
    /// decision is journaled. Returns whether it was, and the run's status before (null: no such run).
    /// </summary>
    private static async Task<(bool Reopened, RunStatus? Status)> ReopenAsync(NpgsqlConnection connection, string runId, RunStatus from, string also,
        JournalEntryKind kind, string action, DateTimeOffset at, CancellationToken ct)
    {
        using var reopen = new NpgsqlCommand(
            "WITH reopened AS (" +
            "  UPDATE runs SET status = 'Pending', status_reason = NULL, error = NULL, due_at = @at, updated_at = @at, owner = NULL, " +
            $"    lease_expires_at = NULL, recovery_attempts = 0, held_alone = 0, recovery_point = NULL, next_index = next_index + 1, {also} " +
            "  WHERE run_id = @id AND status = @from RETURNING workflow, next_index - 1 AS idx), " +
            "ins AS (" +
            "  INSERT INTO journal (run_id, idx, seq, kind, name, attempt, recorded_at, payload) " +
            "  SELECT @id, idx, 0, @kind, workflow, 0, @at, @action FROM reopened) " +
            "SELECT (SELECT count(*) FROM reopened), (SELECT status FROM runs WHERE run_id = @id);", connection);
        Add(reopen, "id", NpgsqlDbType.Text, runId);
        Add(reopen, "at", NpgsqlDbType.Bigint, Ms(at));
        Add(reopen, "from", NpgsqlDbType.Text, from.ToString());
        Add(reopen, "kind", NpgsqlDbType.Text, kind.ToString());
        Add(reopen, "action", NpgsqlDbType.Text, action);
        var reader = await reopen.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        var status = await reader.IsDBNullAsync(1, ct).ConfigureAwait(false) ? (RunStatus?)null : Enum.Parse<RunStatus>(reader.GetString(1));
        return (reader.GetInt64(0) == 1, status);
    }

    /// <inheritdoc />
    public Task<bool> AppendRunRecordAsync(string runId, JournalEntry record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        RunRecords.Validate(record);
        return UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            if (await ReserveIndexAsync(connection, transaction, runId, ct).ConfigureAwait(false) is not { } index)
            {
                return false;
            }
            using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(InsertEntryCommand(runId, index, record));
            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>Reserves the index of the run's next journal entry, as its worker's appends reserve theirs (the row lock
    /// orders them, so the two never collide); null when no run has the id.</summary>
    private static async Task<long?> ReserveIndexAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, CancellationToken ct)
    {
        using var reserve = new NpgsqlCommand("UPDATE runs SET next_index = next_index + 1 WHERE run_id = @id RETURNING next_index - 1;", connection, transaction);
        Add(reserve, "id", NpgsqlDbType.Text, runId);
        return await reserve.ExecuteScalarAsync(ct).ConfigureAwait(false) as long?;
    }

    /// <inheritdoc />
    public Task<ForkOutcome> ForkAsync(NewRun fork, IReadOnlyList<JournalEntry> journal, string sourceRunId, JournalEntry sourceRecord,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fork);
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(sourceRunId);
        ArgumentNullException.ThrowIfNull(sourceRecord);
        ArgumentOutOfRangeException.ThrowIfNotEqual(fork.Owner is null, true, nameof(fork));
        return UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            if (await ReserveIndexAsync(connection, transaction, sourceRunId, ct).ConfigureAwait(false) is not { } sourceIndex)
            {
                return ForkOutcome.SourceNotFound;
            }
            using (var insert = new NpgsqlCommand(InsertRunSql + " RETURNING run_id;", connection, transaction))
            {
                AddNewRun(insert.Parameters, fork);
                if (await insert.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                {
                    return ForkOutcome.IdTaken;
                }
            }
            using var batch = new NpgsqlBatch(connection, transaction);
            for (var i = 0; i < journal.Count; i++)
            {
                batch.BatchCommands.Add(InsertEntryCommand(fork.RunId, i, journal[i]));
            }
            batch.BatchCommands.Add(InsertEntryCommand(sourceRunId, sourceIndex, sourceRecord));
            // The fork's journal refers to the messages its source's does: they stay while either run remains.
            var links = new NpgsqlBatchCommand("INSERT INTO run_messages (run_id, hash) SELECT @fork, hash FROM run_messages WHERE run_id = @id ON CONFLICT DO NOTHING;");
            links.Parameters.Add(new NpgsqlParameter<string>("fork", NpgsqlDbType.Text) { TypedValue = fork.RunId });
            links.Parameters.Add(new NpgsqlParameter<string>("id", NpgsqlDbType.Text) { TypedValue = sourceRunId });
            batch.BatchCommands.Add(links);
            var length = new NpgsqlBatchCommand("UPDATE runs SET next_index = @n WHERE run_id = @id;");
            length.Parameters.Add(new NpgsqlParameter<long>("n", NpgsqlDbType.Bigint) { TypedValue = journal.Count });
            length.Parameters.Add(new NpgsqlParameter<string>("id", NpgsqlDbType.Text) { TypedValue = fork.RunId });
            batch.BatchCommands.Add(length);
            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return ForkOutcome.Forked;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<CancelOutcome> RequestCancelAsync(string runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            RunStatus status;
            string workflow;
            bool held;
            long nextIndex;
            ParentNotice? parent;
            // A child's row and its parent's are locked in run id order, as renewals, appends and signal sends lock rows (a
            // child cancelled here may tell its parent). The parent of a run never changes, so it can be read unlocked first.
            using (var lockRows = new NpgsqlCommand(
                "SELECT r.run_id FROM runs r WHERE r.run_id = @id OR r.run_id = (SELECT parent_run_id FROM runs WHERE run_id = @id) " +
                "ORDER BY r.run_id FOR UPDATE OF r;", connection, transaction))
            {
                Add(lockRows, "id", NpgsqlDbType.Text, runId);
                await lockRows.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            using (var select = new NpgsqlCommand(
                "SELECT status, owner, lease_expires_at, next_index, workflow, parent_run_id, parent_seq FROM runs WHERE run_id = @id;", connection, transaction))
            {
                Add(select, "id", NpgsqlDbType.Text, runId);
                var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    return CancelOutcome.NotFound;
                }
                status = Enum.Parse<RunStatus>(reader.GetString(0));
                held = !await reader.IsDBNullAsync(1, ct).ConfigureAwait(false) && !await reader.IsDBNullAsync(2, ct).ConfigureAwait(false)
                    && reader.GetInt64(2) >= Ms(at);
                nextIndex = reader.GetInt64(3);
                workflow = reader.GetString(4);
                parent = await reader.IsDBNullAsync(5, ct).ConfigureAwait(false) ? null
                    : ParentNotice.Cancelled(reader.GetString(5), reader.GetInt32(6), reason ?? "cancelled on request");
            }
            if (status.IsTerminal())
            {
                return CancelOutcome.AlreadyFinished;
            }
            var text = reason is null ? "cancelled on request" : $"cancelled: {reason}";
            CancelOutcome outcome;
            // A run no code is executing for (never started, or blocked) has nothing to unwind: it ends here.
            if (status is RunStatus.Blocked or RunStatus.Paused || status == RunStatus.Pending && !held && nextIndex == 0)
            {
                using var batch = new NpgsqlBatch(connection, transaction);
                var update = new NpgsqlBatchCommand(
                    "UPDATE runs SET status = 'Cancelled', status_reason = @reason, completed_at = @at, updated_at = @at, " +
                    "due_at = NULL, owner = NULL, lease_expires_at = NULL, next_index = next_index + 1 WHERE run_id = @id;");
                update.Parameters.Add(new NpgsqlParameter<string>("reason", NpgsqlDbType.Text) { TypedValue = text });
                update.Parameters.Add(new NpgsqlParameter<long>("at", NpgsqlDbType.Bigint) { TypedValue = Ms(at) });
                update.Parameters.Add(new NpgsqlParameter<string>("id", NpgsqlDbType.Text) { TypedValue = runId });
                batch.BatchCommands.Add(update);
                batch.BatchCommands.Add(InsertEntryCommand(runId, nextIndex, new JournalEntry
                {
                    Sequence = 0, Kind = JournalEntryKind.RunCancelled, Name = workflow, RecordedAt = at, Payload = null,
                }));
                await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                if (parent is not null)
                {
                    await InsertSignalAsync(connection, transaction, parent.ParentRunId, parent.SignalName, parent.Payload, at, ct).ConfigureAwait(false);
                }
                outcome = CancelOutcome.Cancelled;
            }
            else
            {
                // The update trigger NOTIFYs workers; the owner also sees the flag at its next lease renewal.
                using var flag = new NpgsqlCommand(
                    "UPDATE runs SET cancel_requested = true, status_reason = @reason, updated_at = @at, " +
                    "status = CASE WHEN status = 'NeedsAttention' THEN 'Waiting' ELSE status END, " +
                    "due_at = CASE WHEN due_at IS NULL OR due_at > @at THEN @at ELSE due_at END WHERE run_id = @id;", connection, transaction);
                Add(flag, "reason", NpgsqlDbType.Text, text);
                Add(flag, "at", NpgsqlDbType.Bigint, Ms(at));
                Add(flag, "id", NpgsqlDbType.Text, runId);
                await flag.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                outcome = CancelOutcome.Requested;
            }
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return outcome;
        }, cancellationToken);
    }
}
