using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    /// <summary>
    /// The fence and the inserts in one statement (one round trip, one transaction): the entries are inserted only
    /// when the UPDATE found the run still held by this owner at this epoch, and take the indexes it reserved.
    /// </summary>
    private const string FencedAppendSql =
        "WITH fence AS (" +
        "  UPDATE runs SET next_index = next_index + @count, " +
        "    recovery_attempts = CASE WHEN @count > 0 OR @recovered THEN 0 ELSE recovery_attempts END, " +
        "    pause_requested = CASE WHEN @status = 'Paused' THEN false ELSE pause_requested END, " +
        "    status = COALESCE(@status, status), result = COALESCE(@result, result), error = COALESCE(@error, error), " +
        "    status_reason = CASE WHEN @status IS NULL OR (@reason IS NULL AND @status = 'Cancelled') THEN COALESCE(@reason, status_reason) ELSE @reason END, custom_status = COALESCE(@custom, custom_status), updated_at = @at, " +
        "    completed_at = CASE WHEN @terminal THEN @at ELSE completed_at END, " +
        "    due_at = CASE WHEN NOT @runnable THEN NULL WHEN @release AND cancel_requested THEN @at WHEN @release AND @waiting IS NOT NULL THEN @due " +
        "      WHEN @release THEN COALESCE(@due, @at) ELSE due_at END, " +
        "    waiting_for = CASE WHEN @release THEN @waiting ELSE waiting_for END, " +
        "    owner = CASE WHEN @release THEN NULL ELSE owner END, " +
        "    lease_expires_at = CASE WHEN @release THEN NULL ELSE lease_expires_at END " +
        "  WHERE run_id = @id AND owner = @owner AND lease_epoch = @epoch RETURNING next_index), " +
        "ins AS (" +
        "  INSERT INTO journal (run_id, idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at) " +
        "  SELECT @id, fence.next_index - @count + e.ord - 1, e.seq, e.kind, e.name, e.attempt, e.started_at, e.recorded_at, e.payload, e.error, e.retry_at " +
        "  FROM fence, unnest(@seqs, @kinds, @names, @attempts, @starteds, @recordeds, @payloads, @errors, @retries) " +
        "    WITH ORDINALITY AS e(seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at, ord)) " +
        "SELECT next_index FROM fence;";

    private const string InsertEntrySql =
        "INSERT INTO journal (run_id, idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at) " +
        "VALUES (@run, @idx, @seq, @kind, @name, @attempt, @started, @recorded, @payload, @error, @retry);";

    /// <inheritdoc />
    public Task<bool> AppendAsync(RunLease lease, IReadOnlyList<JournalEntry> entries, RunUpdate? update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0 && update is null)
        {
            return Task.FromResult(true);
        }
        var status = update?.Status;
        var terminal = status is { } s && s.IsTerminal();
        // A NeedsAttention run keeps the due time of its other waits (a timer, a deadline) and is claimed then.
        var runnable = status is not { } next || next.IsRunnable() || next == RunStatus.NeedsAttention;
        var at = update?.At ?? (entries.Count > 0 ? entries[^1].RecordedAt : DateTimeOffset.UnixEpoch);
        if (update is not null && HasInboxChanges(update))
        {
            return AppendWithInboxAsync(Command(), lease.RunId, update, cancellationToken);
        }
        return _batcher is not null ? AppendBatchedAsync(lease.RunId, Command, cancellationToken) : AppendDirectAsync(Command(), cancellationToken);

        NpgsqlBatchCommand Command()
        {
            var command = new NpgsqlBatchCommand(FencedAppendSql);
            var p = command.Parameters;
            Add(p, "count", NpgsqlDbType.Integer, entries.Count);
            Add(p, "status", NpgsqlDbType.Text, status?.ToString());
            Add(p, "result", NpgsqlDbType.Text, update?.Result);
            Add(p, "error", NpgsqlDbType.Text, ToJson(update?.Error));
            Add(p, "reason", NpgsqlDbType.Text, update?.StatusReason);
            Add(p, "custom", NpgsqlDbType.Text, update?.CustomStatus is null ? null : System.Text.Json.JsonSerializer.Serialize(update.CustomStatus, KeelJson.Default));
            Add(p, "at", NpgsqlDbType.Bigint, Ms(at));
            Add(p, "terminal", NpgsqlDbType.Boolean, terminal);
            Add(p, "runnable", NpgsqlDbType.Boolean, runnable);
            Add(p, "release", NpgsqlDbType.Boolean, update?.ReleaseLease == true);
            Add(p, "recovered", NpgsqlDbType.Boolean, update?.Recovered == true);
            Add(p, "due", NpgsqlDbType.Bigint, Ms(update?.DueAt));
            Add(p, "waiting", NpgsqlDbType.Array | NpgsqlDbType.Text, update?.WaitsForSignals?.ToArray());
            Add(p, "id", NpgsqlDbType.Text, lease.RunId);
            Add(p, "owner", NpgsqlDbType.Text, lease.Owner);
            Add(p, "epoch", NpgsqlDbType.Bigint, lease.Epoch);
            Add(p, "seqs", NpgsqlDbType.Array | NpgsqlDbType.Integer, entries.Select(e => e.Sequence).ToArray());
            Add(p, "kinds", NpgsqlDbType.Array | NpgsqlDbType.Text, entries.Select(e => e.Kind.ToString()).ToArray());
            Add(p, "names", NpgsqlDbType.Array | NpgsqlDbType.Text, entries.Select(e => e.Name).ToArray());
            Add(p, "attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer, entries.Select(e => e.Attempt).ToArray());
            Add(p, "starteds", NpgsqlDbType.Array | NpgsqlDbType.Bigint, entries.Select(e => Ms(e.StartedAt)).ToArray());
            Add(p, "recordeds", NpgsqlDbType.Array | NpgsqlDbType.Bigint, entries.Select(e => Ms(e.RecordedAt)).ToArray());
            Add(p, "payloads", NpgsqlDbType.Array | NpgsqlDbType.Text, entries.Select(e => e.Payload).ToArray());
            Add(p, "errors", NpgsqlDbType.Array | NpgsqlDbType.Text, entries.Select(e => ToJson(e.Error)).ToArray());
            Add(p, "retries", NpgsqlDbType.Array | NpgsqlDbType.Bigint, entries.Select(e => Ms(e.RetryAt)).ToArray());
            return command;
        }
    }

    /// <summary>Group commit: the append shares a round trip and a transaction with whatever other appends are queued.</summary>
    private async Task<bool> AppendBatchedAsync(string runId, Func<NpgsqlBatchCommand> command, CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            // false: fenced out, another worker holds the run and nothing was written
            return await _batcher!.AppendAsync(runId, command).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw Translate(ex);
        }
    }

    private Task<bool> AppendDirectAsync(NpgsqlBatchCommand command, CancellationToken cancellationToken) =>
        UseAsync(async (connection, ct) =>
        {
            using var batch = new NpgsqlBatch(connection) { BatchCommands = { command } };
            var next = await batch.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return next is not null; // null: fenced out, another worker holds the run and nothing was written
        }, cancellationToken);

    private static NpgsqlBatchCommand InsertEntryCommand(string runId, long index, JournalEntry entry)
    {
        var insert = new NpgsqlBatchCommand(InsertEntrySql);
        var p = insert.Parameters;
        p.Add(new NpgsqlParameter<string>("run", NpgsqlDbType.Text) { TypedValue = runId });
        p.Add(new NpgsqlParameter<long>("idx", NpgsqlDbType.Bigint) { TypedValue = index });
        p.Add(new NpgsqlParameter<int>("seq", NpgsqlDbType.Integer) { TypedValue = entry.Sequence });
        p.Add(new NpgsqlParameter<string>("kind", NpgsqlDbType.Text) { TypedValue = entry.Kind.ToString() });
        p.Add(new NpgsqlParameter<string>("name", NpgsqlDbType.Text) { TypedValue = entry.Name });
        p.Add(new NpgsqlParameter<int>("attempt", NpgsqlDbType.Integer) { TypedValue = entry.Attempt });
        p.Add(new NpgsqlParameter<long?>("started", NpgsqlDbType.Bigint) { TypedValue = Ms(entry.StartedAt) });
        p.Add(new NpgsqlParameter<long>("recorded", NpgsqlDbType.Bigint) { TypedValue = Ms(entry.RecordedAt) });
        p.Add(new NpgsqlParameter<string?>("payload", NpgsqlDbType.Text) { TypedValue = entry.Payload });
        p.Add(new NpgsqlParameter<string?>("error", NpgsqlDbType.Text) { TypedValue = ToJson(entry.Error) });
        p.Add(new NpgsqlParameter<long?>("retry", NpgsqlDbType.Bigint) { TypedValue = Ms(entry.RetryAt) });
        return insert;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync<IReadOnlyList<JournalEntry>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand(
                "SELECT idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at " +
                "FROM journal WHERE run_id = @run ORDER BY idx;", connection);
            Add(command, "run", NpgsqlDbType.Text, runId);
            var entries = new List<JournalEntry>();
            var r = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var rScope = r.ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                entries.Add(new JournalEntry
                {
                    Index = r.GetInt64(0),
                    Sequence = r.GetInt32(1),
                    Kind = Enum.Parse<JournalEntryKind>(r.GetString(2)),
                    Name = r.GetString(3),
                    Attempt = r.GetInt32(4),
                    StartedAt = FromMs(r, 5),
                    RecordedAt = FromMs(r, 6)!.Value,
                    Payload = NullableString(r, 7),
                    Error = ErrorFromJson(r, 8),
                    RetryAt = FromMs(r, 9),
                });
            }
            return entries;
        }, cancellationToken);
    }
}
