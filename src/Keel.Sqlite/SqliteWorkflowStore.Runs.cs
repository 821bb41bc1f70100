using System.Globalization;
using System.Text;
using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Sqlite;

public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc />
    public Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(w =>
        {
            var insert = InsertRun(w, run);
            var created = insert == 1;
            var select = w.Command($"SELECT {RunColumns} FROM runs WHERE run_id = $id;");
            select.Parameters.Set("$id", run.RunId);
            using var reader = select.ExecuteReader();
            reader.Read();
            return new CreateRunResult(ReadRun(reader), created)
            {
                Lease = created ? run.HeldLease : null,
            };
        }, cancellationToken);
    }

    /// <summary>Inserts the run unless one has the id; a run with an <see cref="NewRun.Owner"/> starts held by it,
    /// as its first claim would leave it.</summary>
    private static int InsertRun(WriteContext w, NewRun run)
    {
        var insert = w.Command(
            "INSERT INTO runs (run_id, workflow, status, input, priority, created_at, updated_at, due_at, parent_run_id, parent_seq, " +
            "  owner, lease_epoch, lease_expires_at, recovery_attempts, build_id, trace_parent) " +
            "VALUES ($id, $workflow, CASE WHEN $owner IS NULL THEN 'Pending' ELSE 'Running' END, $input, $priority, $now, $now, $now, $parent, $parentSeq, " +
            "  $owner, CASE WHEN $owner IS NULL THEN 0 ELSE 1 END, $expires, 0, $build, $trace) " +
            "ON CONFLICT (run_id) DO NOTHING;");
        insert.Parameters.Set("$id", run.RunId);
        insert.Parameters.Set("$workflow", run.WorkflowName);
        insert.Parameters.Set("$input", run.Input);
        insert.Parameters.Set("$priority", run.Priority);
        insert.Parameters.Set("$now", Ms(run.CreatedAt));
        insert.Parameters.Set("$parent", run.ParentRunId);
        insert.Parameters.Set("$parentSeq", run.ParentSequence);
        insert.Parameters.Set("$owner", run.Owner);
        insert.Parameters.Set("$expires", run.HeldUntil is { } until ? Ms(until) : null);
        insert.Parameters.Set("$build", run.BuildId);
        insert.Parameters.Set("$trace", run.TraceParent);
        return insert.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public Task<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (_writer is null)
        {
            return GetRunSlowAsync(runId, cancellationToken);
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<RunInfo?>(cancellationToken);
        }
        try
        {
            return Task.FromResult(ReadRunWithCachedStatement(runId));
        }
        catch (Exception ex)
        {
            return Task.FromException<RunInfo?>(ex);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunInfo>> GetRunsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        if (runIds.Count <= 1)
        {
            return runIds.Count == 0 || await GetRunAsync(runIds.First(), cancellationToken).ConfigureAwait(false) is not { } one ? [] : [one];
        }
        var ids = StoreJson.Serialize(runIds);
        return await ReadAsync<IReadOnlyList<RunInfo>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ReadColumns} FROM runs WHERE run_id IN (SELECT value FROM json_each($ids));";
            command.Parameters.AddWithValue("$ids", ids);
            using var reader = command.ExecuteReader();
            var runs = new List<RunInfo>();
            while (reader.Read())
            {
                runs.Add(ReadRun(reader, withStuckChild: true));
            }
            return runs;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RunInfo?> GetRunSlowAsync(string runId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return ReadRunWithCachedStatement(runId);
    }

    /// <summary>
    /// Reads a run with a statement prepared once, on a connection kept for it: waiting clients read runs often (W2:
    /// twice per run), and a pooled connection parsed and planned the statement again every time. A few such
    /// connections are kept between reads (each used by one read at a time); more are closed after use.
    /// </summary>
    private RunInfo? ReadRunWithCachedStatement(string runId)
    {
        var command = _getRunCommands.TryTake(out var idle) ? idle : OpenGetRunCommand();
        try
        {
            command.Parameters[0].Value = runId;
            RunInfo? run;
            using (var reader = command.ExecuteReader())
            {
                run = reader.Read() ? ReadRun(reader, withStuckChild: true) : null;
            }
            if (Volatile.Read(ref _disposed) == 0 && _getRunCommands.Count < MaxIdleRunReaders)
            {
                _getRunCommands.Add(command);
                command = null;
                if (Volatile.Read(ref _disposed) == 1)
                {
                    CloseRunReaders(); // disposed meanwhile: do not leave the connection open
                }
            }
            return run;
        }
        catch (SqliteException ex)
        {
            throw Translate(ex); // the connection is closed below: the next read opens afresh
        }
        finally
        {
            if (command is not null)
            {
                DisposeCommandAndConnection(command);
            }
        }
    }

    private SqliteCommand OpenGetRunCommand()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ReadColumns} FROM runs WHERE run_id = $id;";
            command.Parameters.Add("$id", SqliteType.Text);
            command.Prepare();
            return command;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void CloseRunReaders()
    {
        while (_getRunCommands.TryTake(out var command))
        {
            DisposeCommandAndConnection(command);
        }
    }

    private static void DisposeCommandAndConnection(SqliteCommand command)
    {
        var connection = command.Connection;
        command.Dispose();
        connection?.Dispose();
    }

    /// <inheritdoc />
    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            var sql = new StringBuilder($"SELECT {ReadColumns} FROM runs WHERE 1 = 1");
            AppendFilters(sql, command, query);
            if (RunPageCursor.Decode(query.Cursor) is { } cursor)
            {
                sql.Append(" AND (created_at < $cursorAt OR (created_at = $cursorAt AND run_id < $cursorId))");
                command.Parameters.AddWithValue("$cursorAt", cursor.CreatedAtMs);
                command.Parameters.AddWithValue("$cursorId", cursor.RunId);
            }
            sql.Append(" ORDER BY created_at DESC, run_id DESC LIMIT $limit;");
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            command.CommandText = sql.ToString();
            var runs = new List<RunInfo>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                runs.Add(ReadRun(reader, withStuckChild: true));
            }
            return RunPageCursor.ToPage(runs, query.Limit);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<RunStatus, int>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ReadAsync<IReadOnlyDictionary<RunStatus, int>>(connection =>
        {
            using var command = connection.CreateCommand();
            var sql = new StringBuilder("SELECT status, count(*) FROM runs WHERE 1 = 1");
            AppendFilters(sql, command, query);
            command.CommandText = sql.Append(" GROUP BY status;").ToString();
            var counts = new Dictionary<RunStatus, int>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                counts[Enum.Parse<RunStatus>(reader.GetString(0))] = reader.GetInt32(1);
            }
            return counts;
        }, cancellationToken);
    }

    /// <summary>The filters of a list or a count (not its paging).</summary>
    private static void AppendFilters(StringBuilder sql, SqliteCommand command, RunQuery query)
    {
        if (query.Statuses.Count > 0)
        {
            sql.Append(" AND status IN (SELECT value FROM json_each($statuses))");
            command.Parameters.AddWithValue("$statuses", StoreJson.Serialize(query.Statuses.Select(s => s.ToString())));
        }
        if (query.WorkflowName is not null)
        {
            sql.Append(" AND workflow = $workflow");
            command.Parameters.AddWithValue("$workflow", query.WorkflowName);
        }
        if (query.WaitingForPerson)
        {
            sql.Append(" AND (status IN ('NeedsAttention', 'Blocked') OR status NOT IN ('Completed', 'Failed', 'Cancelled') AND " +
                       "EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = runs.run_id AND a.decided_at IS NULL))");
        }
        if (query.CreatedAfter is { } after)
        {
            sql.Append(" AND created_at >= $after");
            command.Parameters.AddWithValue("$after", Ms(after));
        }
        if (query.CreatedBefore is { } before)
        {
            sql.Append(" AND created_at < $before");
            command.Parameters.AddWithValue("$before", Ms(before));
        }
    }

    // A run no live worker holds is paused here, and a stale holder fenced out (epoch bump); a held one is flagged.
    private const string PauseSql =
        "UPDATE runs SET " +
        "pause_requested = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $at) THEN 0 ELSE 1 END, " +
        "status = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $at) THEN 'Paused' ELSE status END, " +
        "due_at = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $at) THEN NULL ELSE due_at END, " +
        "lease_epoch = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $at) THEN lease_epoch + 1 ELSE lease_epoch END, " +
        "owner = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $at) THEN NULL ELSE owner END, " +
        "lease_expires_at = CASE WHEN (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < $at) THEN NULL ELSE lease_expires_at END, updated_at = $at " +
        "WHERE run_id = $id AND status IN ('Pending', 'Running', 'Waiting') RETURNING status;";

    private const string ResumeSql =
        "UPDATE runs SET status = CASE WHEN status = 'Paused' THEN 'Running' ELSE status END, " +
        "due_at = CASE WHEN status = 'Paused' THEN $at ELSE due_at END, pause_requested = 0, updated_at = $at " +
        "WHERE run_id = $id AND (status = 'Paused' OR pause_requested = 1) RETURNING status;";

    /// <inheritdoc />
    public Task<PauseOutcome> RequestPauseAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ChangePauseAsync(PauseSql, runId, at, status => status == "Paused" ? PauseOutcome.Done : PauseOutcome.Requested, cancellationToken);

    /// <inheritdoc />
    public Task<PauseOutcome> ResumeAsync(string runId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ChangePauseAsync(ResumeSql, runId, at, _ => PauseOutcome.Done, cancellationToken);

    private Task<PauseOutcome> ChangePauseAsync(string sql, string runId, DateTimeOffset at, Func<string, PauseOutcome> changed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return WriteAsync(w =>
        {
            var change = w.Command(sql);
            change.Parameters.Set("$id", runId);
            change.Parameters.Set("$at", Ms(at));
            if (change.ExecuteScalar() is string status)
            {
                return changed(status);
            }
            return StatusOf(w, runId) is not { } current ? PauseOutcome.NotFound
                : current.IsTerminal() ? PauseOutcome.AlreadyFinished : PauseOutcome.NotApplicable;
        }, cancellationToken);
    }

    /// <summary>Why a change did not apply: the run's status now, or null when there is no such run.</summary>
    private static RunStatus? StatusOf(WriteContext w, string runId)
    {
        var select = w.Command("SELECT status FROM runs WHERE run_id = $id;");
        select.Parameters.Set("$id", runId);
        return select.ExecuteScalar() is string status ? Enum.Parse<RunStatus>(status) : null;
    }

    /// <inheritdoc />
    public Task<UnblockOutcome> UnblockAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(action);
        return WriteAsync(w =>
        {
            // Suspect (interrupted twice) with a fresh budget: the first worker to take it runs it alone.
            if (Reopen(w, runId, RunStatus.Blocked, "interrupted = 2", JournalEntryKind.RunUnblocked, action, at))
            {
                return UnblockOutcome.Unblocked;
            }
            return StatusOf(w, runId) is not { } current ? UnblockOutcome.NotFound
                : current.IsTerminal() ? UnblockOutcome.AlreadyFinished : UnblockOutcome.NotBlocked;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<RetryOutcome> RetryAsync(string runId, string action, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(action);
        return WriteAsync(w =>
        {
            if (Reopen(w, runId, RunStatus.Failed, "interrupted = 0, result = NULL, completed_at = NULL", JournalEntryKind.RunRetried, action, at))
            {
                return RetryOutcome.Retried;
            }
            return StatusOf(w, runId) is null ? RetryOutcome.NotFound : RetryOutcome.NotFailed;
        }, cancellationToken);
    }

    /// <summary>
    /// A person's unblock or retry: a run in <paramref name="from"/> becomes runnable now with a fresh recovery budget (and
    /// <paramref name="also"/> set), and the decision is journaled, in one transaction. False when the run is not in that state.
    /// </summary>
    private static bool Reopen(WriteContext w, string runId, RunStatus from, string also, JournalEntryKind kind, string action, DateTimeOffset at)
    {
        var reopen = w.Command(
            "UPDATE runs SET status = 'Pending', status_reason = NULL, error = NULL, due_at = $at, updated_at = $at, owner = NULL, " +
            $"lease_expires_at = NULL, recovery_attempts = 0, held_alone = 0, recovery_point = NULL, {also} " +
            "WHERE run_id = $id AND status = $from RETURNING workflow, " + JournalLengthSql + ";");
        reopen.Parameters.Set("$id", runId);
        reopen.Parameters.Set("$at", Ms(at));
        reopen.Parameters.Set("$from", from.ToString());
        using var reader = reopen.ExecuteReader();
        if (!reader.Read())
        {
            return false;
        }
        var (workflow, index) = (reader.GetString(0), reader.GetInt64(1));
        reader.Close();
        InsertEntry(w, runId, index, new JournalEntry { Sequence = 0, Kind = kind, Name = workflow, RecordedAt = at, Payload = action });
        return true;
    }

    /// <inheritdoc />
    public Task<bool> AppendRunRecordAsync(string runId, JournalEntry record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        RunRecords.Validate(record);
        return WriteAsync(w =>
        {
            // One writer: the holder's appends cannot interleave between the length read and the insert.
            if (NextIndex(w, runId) is not { } index)
            {
                return false;
            }
            InsertEntry(w, runId, index, record);
            return true;
        }, cancellationToken);
    }

    /// <summary>The index the run's next journal entry takes; null when no run has the id.</summary>
    private static long? NextIndex(WriteContext w, string runId)
    {
        var length = w.Command($"SELECT {JournalLengthSql} FROM runs WHERE run_id = $id;");
        length.Parameters.Set("$id", runId);
        return length.ExecuteScalar() as long?;
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
        return WriteAsync(w =>
        {
            if (NextIndex(w, sourceRunId) is not { } sourceIndex)
            {
                return ForkOutcome.SourceNotFound;
            }
            if (InsertRun(w, fork) != 1)
            {
                return ForkOutcome.IdTaken;
            }
            for (var i = 0; i < journal.Count; i++)
            {
                InsertEntry(w, fork.RunId, i, journal[i]);
            }
            InsertEntry(w, sourceRunId, sourceIndex, sourceRecord);
            // The fork's journal refers to the messages its source's does: they stay while either run remains.
            var links = w.Command("INSERT OR IGNORE INTO run_messages (run_id, hash) SELECT $fork, hash FROM run_messages WHERE run_id = $id;");
            links.Parameters.Set("$fork", fork.RunId);
            links.Parameters.Set("$id", sourceRunId);
            links.ExecuteNonQuery();
            return ForkOutcome.Forked;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<RunInfo?> SetPriorityAsync(string runId, int priority, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return WriteAsync(w =>
        {
            var update = w.Command($"UPDATE runs SET priority = $priority, updated_at = $at WHERE run_id = $id RETURNING {RunColumns};");
            update.Parameters.Set("$priority", priority);
            update.Parameters.Set("$at", Ms(at));
            update.Parameters.Set("$id", runId);
            using var reader = update.ExecuteReader();
            return reader.Read() ? ReadRun(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> PurgeFinishedRunsAsync(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return WriteAsync(w =>
        {
            var select = w.Command(
                "SELECT json_group_array(run_id) FROM (SELECT run_id FROM runs WHERE completed_at IS NOT NULL AND completed_at < $before " +
                "AND status IN ('Completed', 'Failed', 'Cancelled') ORDER BY completed_at LIMIT $limit);");
            select.Parameters.Set("$before", Ms(finishedBefore));
            select.Parameters.Set("$limit", batchSize);
            var ids = (string)select.ExecuteScalar()!;
            // The purged runs' messages that no remaining run refers to, then their links (one writer: nothing links meanwhile).
            var messages = w.Command(
                "DELETE FROM messages WHERE hash IN (SELECT hash FROM run_messages WHERE run_id IN (SELECT value FROM json_each($ids))) " +
                "AND NOT EXISTS (SELECT 1 FROM run_messages l WHERE l.hash = messages.hash AND l.run_id NOT IN (SELECT value FROM json_each($ids)));");
            messages.Parameters.Set("$ids", ids);
            messages.ExecuteNonQuery();
            foreach (var table in (string[])["journal", "signals", "approvals", "run_messages"])
            {
                var delete = w.Command($"DELETE FROM {table} WHERE run_id IN (SELECT value FROM json_each($ids));");
                delete.Parameters.Set("$ids", ids);
                delete.ExecuteNonQuery();
            }
            var runs = w.Command("DELETE FROM runs WHERE run_id IN (SELECT value FROM json_each($ids));");
            runs.Parameters.Set("$ids", ids);
            return runs.ExecuteNonQuery();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<CancelOutcome> RequestCancelAsync(string runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return WriteAsync(w =>
        {
            var select = w.Command("SELECT status, owner, lease_expires_at, " + JournalLengthSql + ", workflow, parent_run_id, parent_seq FROM runs WHERE run_id = $id;");
            select.Parameters.Set("$id", runId);
            string status, workflow;
            bool held;
            long nextIndex;
            ParentNotice? parent;
            using (var reader = select.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return CancelOutcome.NotFound;
                }
                status = reader.GetString(0);
                held = !reader.IsDBNull(1) && !reader.IsDBNull(2) && reader.GetInt64(2) >= Ms(at);
                nextIndex = reader.GetInt64(3);
                workflow = reader.GetString(4);
                parent = reader.IsDBNull(5) ? null : ParentNotice.Cancelled(reader.GetString(5), reader.GetInt32(6), reason ?? "cancelled on request");
            }
            var parsed = Enum.Parse<RunStatus>(status);
            if (parsed.IsTerminal())
            {
                return CancelOutcome.AlreadyFinished;
            }
            var text = reason is null ? "cancelled on request" : $"cancelled: {reason}";
            // A run no code is executing for (never started, blocked or paused) has nothing to unwind: it ends here.
            if (parsed is RunStatus.Blocked or RunStatus.Paused || parsed == RunStatus.Pending && !held && nextIndex == 0)
            {
                var update = w.Command(
                    "UPDATE runs SET status = 'Cancelled', status_reason = $reason, completed_at = $at, updated_at = $at, " +
                    "due_at = NULL, owner = NULL, lease_expires_at = NULL WHERE run_id = $id;");
                update.Parameters.Set("$reason", text);
                update.Parameters.Set("$at", Ms(at));
                update.Parameters.Set("$id", runId);
                update.ExecuteNonQuery();
                InsertEntry(w, runId, nextIndex, new JournalEntry
                {
                    Sequence = 0, Kind = JournalEntryKind.RunCancelled, Name = workflow, RecordedAt = at, Payload = null,
                });
                if (parent is not null)
                {
                    InsertSignal(w, parent.ParentRunId, parent.SignalName, parent.Payload, at);
                }
                return CancelOutcome.Cancelled;
            }
            var flag = w.Command(
                "UPDATE runs SET cancel_requested = 1, status_reason = $reason, updated_at = $at, " +
                "status = CASE WHEN status = 'NeedsAttention' THEN 'Waiting' ELSE status END, " +
                "due_at = CASE WHEN due_at IS NULL OR due_at > $at THEN $at ELSE due_at END WHERE run_id = $id;");
            flag.Parameters.Set("$reason", text);
            flag.Parameters.Set("$at", Ms(at));
            flag.Parameters.Set("$id", runId);
            flag.ExecuteNonQuery();
            return CancelOutcome.Requested;
        }, cancellationToken);
    }
}
