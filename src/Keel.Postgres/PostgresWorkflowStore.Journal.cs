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
        // Progress, a clean release or a recovered suspect clears the run's blame; a failed recovery is charged.
        // (A quarantined run keeps its count, for people to see.)
        "    recovery_attempts = CASE WHEN @failed THEN recovery_attempts + 1 WHEN @status = 'Blocked' THEN recovery_attempts " +
        "      WHEN @count > 0 OR @recovered OR @release THEN 0 ELSE recovery_attempts END, " +
        "    interrupted = CASE WHEN NOT @failed AND (@count > 0 OR @recovered OR @release) THEN 0 ELSE interrupted END, " +
        // A suspect's first recovery point arms it: its own code runs from now on, so a death now is charged to it.
        "    held_alone = CASE WHEN @count > 0 OR @recovered OR @release THEN 0 WHEN @point IS NOT NULL AND held_alone = 1 THEN 2 ELSE held_alone END, " +
        "    recovery_point = CASE WHEN NOT @failed AND (@count > 0 OR @recovered OR @release) THEN NULL ELSE COALESCE(@point, recovery_point) END, " +
        "    pause_requested = CASE WHEN @status = 'Paused' THEN false ELSE pause_requested END, " +
        // The run's token totals grow with the append that journals the model calls: exact after any crash.
        "    input_tokens = input_tokens + coalesce(@tokens[1], 0), output_tokens = output_tokens + coalesce(@tokens[2], 0), " +
        "    total_tokens = total_tokens + coalesce(@tokens[3], 0), model_calls = model_calls + coalesce(@tokens[4], 0), " +
        "    status = COALESCE(@status, status), result = COALESCE(@result, result), error = COALESCE(@error, error), " +
        "    status_reason = CASE WHEN @status IS NULL OR (@reason IS NULL AND @status = 'Cancelled') THEN COALESCE(@reason, status_reason) ELSE @reason END, custom_status = COALESCE(@custom, custom_status), updated_at = @at, " +
        "    completed_at = CASE WHEN @terminal THEN @at ELSE completed_at END, " +
        "    due_at = CASE WHEN NOT @runnable THEN NULL WHEN @release AND cancel_requested THEN @at WHEN @release AND @waiting IS NOT NULL THEN @due " +
        "      WHEN @release THEN COALESCE(@due, @at) ELSE due_at END, " +
        "    waiting_for = CASE WHEN @release THEN @waiting ELSE waiting_for END, " +
        "    waiting_kinds = CASE WHEN @release THEN @signalKinds ELSE waiting_kinds END, " +
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

    /// <summary>
    /// The batched form of <see cref="FencedAppendSql"/>, for the group-commit writer: one statement fences and writes
    /// many runs (each at most once) from arrays, one row per append and one per entry, and returns the runs whose fence
    /// held. The rows are locked in run id order, as lease renewal locks them, so the two never deadlock.
    /// </summary>
    private const string BatchedAppendSql =
        "WITH input AS (" +
        "  SELECT * FROM unnest(@ids, @owners, @epochs, @counts, @statuses, @results, @errors, @reasons, @customs, @ats, " +
        "    @terminals, @runnables, @releases, @recovereds, @dues, @waitings, @faileds, @points, @signalKinds, @tins, @touts, @ttotals, @tcalls) " +
        "  AS i(run_id, owner, epoch, n, status, result, error, reason, custom, at, terminal, runnable, release, recovered, due, waiting, failed, point, signal_kinds, " +
        "    tin, tout, ttotal, tcalls)), " +
        "fence AS (" +
        "  UPDATE runs SET next_index = runs.next_index + a.n, " +
        "    recovery_attempts = CASE WHEN a.failed THEN runs.recovery_attempts + 1 WHEN a.status = 'Blocked' THEN runs.recovery_attempts " +
        "      WHEN a.n > 0 OR a.recovered OR a.release THEN 0 ELSE runs.recovery_attempts END, " +
        "    interrupted = CASE WHEN NOT a.failed AND (a.n > 0 OR a.recovered OR a.release) THEN 0 ELSE runs.interrupted END, " +
        "    held_alone = CASE WHEN a.n > 0 OR a.recovered OR a.release THEN 0 WHEN a.point IS NOT NULL AND runs.held_alone = 1 THEN 2 ELSE runs.held_alone END, " +
        "    recovery_point = CASE WHEN NOT a.failed AND (a.n > 0 OR a.recovered OR a.release) THEN NULL ELSE COALESCE(a.point, runs.recovery_point) END, " +
        "    pause_requested = CASE WHEN a.status = 'Paused' THEN false ELSE runs.pause_requested END, " +
        "    input_tokens = runs.input_tokens + a.tin, output_tokens = runs.output_tokens + a.tout, total_tokens = runs.total_tokens + a.ttotal, " +
        "    model_calls = runs.model_calls + a.tcalls, " +
        "    status = COALESCE(a.status, runs.status), result = COALESCE(a.result, runs.result), error = COALESCE(a.error, runs.error), " +
        "    status_reason = CASE WHEN a.status IS NULL OR (a.reason IS NULL AND a.status = 'Cancelled') THEN COALESCE(a.reason, runs.status_reason) ELSE a.reason END, " +
        "    custom_status = COALESCE(a.custom, runs.custom_status), updated_at = a.at, " +
        "    completed_at = CASE WHEN a.terminal THEN a.at ELSE runs.completed_at END, " +
        "    due_at = CASE WHEN NOT a.runnable THEN NULL WHEN a.release AND runs.cancel_requested THEN a.at WHEN a.release AND a.waiting IS NOT NULL THEN a.due " +
        "      WHEN a.release THEN COALESCE(a.due, a.at) ELSE runs.due_at END, " +
        "    waiting_for = CASE WHEN a.release AND a.waiting IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(a.waiting::jsonb)) " +
        "      WHEN a.release THEN NULL ELSE runs.waiting_for END, " +
        "    waiting_kinds = CASE WHEN a.release THEN a.signal_kinds ELSE runs.waiting_kinds END, " +
        "    owner = CASE WHEN a.release THEN NULL ELSE runs.owner END, " +
        "    lease_expires_at = CASE WHEN a.release THEN NULL ELSE runs.lease_expires_at END " +
        BatchedFenceAndInsertSql;

    /// <summary>
    /// <see cref="BatchedAppendSql"/> for a batch of plain appends (entries, no change to the run: most steps). It
    /// rewrites a few columns instead of every one, so the update stays on its page and fires no trigger (the blame it
    /// clears is almost always clear already: an unchanged indexed column keeps the update HOT).
    /// </summary>
    private const string BatchedPlainAppendSql =
        "WITH input AS (SELECT * FROM unnest(@ids, @owners, @epochs, @counts, @ats) AS i(run_id, owner, epoch, n, at)), " +
        "fence AS (" +
        "  UPDATE runs SET next_index = runs.next_index + a.n, recovery_attempts = 0, interrupted = 0, held_alone = 0, " +
        "    recovery_point = NULL, updated_at = a.at " +
        BatchedFenceAndInsertSql;

    /// <summary>
    /// The end of both batched statements: the fence's FROM (the input rows whose run is still held at their epoch, the
    /// rows locked in run id order; the row is <c>a</c> in the UPDATE), then the entries inserted for the runs whose fence
    /// held, at the indexes it reserved.
    /// </summary>
    private const string BatchedFenceAndInsertSql =
        "  FROM (SELECT input.* FROM runs r JOIN input ON input.run_id = r.run_id AND input.owner = r.owner AND input.epoch = r.lease_epoch " +
        "    WHERE r.run_id = ANY(@ids) ORDER BY r.run_id FOR UPDATE OF r) AS a " +
        "  WHERE runs.run_id = a.run_id AND runs.owner = a.owner AND runs.lease_epoch = a.epoch " +
        "  RETURNING runs.run_id, runs.next_index - a.n AS first_index), " +
        "ins AS (" +
        "  INSERT INTO journal (run_id, idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at) " +
        "  SELECT e.run_id, fence.first_index + e.pos, e.seq, e.kind, e.name, e.attempt, e.started_at, e.recorded_at, e.payload, e.error, e.retry_at " +
        "  FROM unnest(@entryRuns, @positions, @seqs, @kinds, @names, @attempts, @starteds, @recordeds, @payloads, @entryErrors, @retries) " +
        "    AS e(run_id, pos, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at) " +
        "  JOIN fence ON fence.run_id = e.run_id) " +
        "SELECT run_id FROM fence;";

    /// <inheritdoc />
    public Task<bool> AppendAsync(RunLease lease, IReadOnlyList<JournalEntry> entries, RunUpdate? update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(entries);
        update?.Validate();
        if (entries.Count == 0 && update is null)
        {
            return Task.FromResult(true);
        }
        var append = PostgresAppend.From(lease, entries, update);
        if (update is not null && HasInboxChanges(update) && !(_appends is not null && InboxChangesBatchable(update)))
        {
            return AppendWithInboxAsync(FencedAppendCommand(append), lease.RunId, update, cancellationToken);
        }
        // Batched, false means fenced out: another worker holds the run and nothing was written.
        return _appends is not null ? GroupCommitAsync(AppendWriterOf(lease.RunId), append, cancellationToken) : AppendDirectAsync(append, cancellationToken);
    }

    /// <summary>A run's appends always go through the same writer, so they commit in the order they were made; the
    /// writers' batches then touch disjoint runs and never wait for each other.</summary>
    private PostgresGroupCommit<PostgresAppend, bool> AppendWriterOf(string runId) =>
        _appends!.Length == 1 ? _appends[0] : _appends[(int)((uint)StringComparer.Ordinal.GetHashCode(runId) % (uint)_appends.Length)];

    private static NpgsqlBatchCommand FencedAppendCommand(PostgresAppend append)
    {
        var entries = append.Entries;
        var command = new NpgsqlBatchCommand(FencedAppendSql);
        var p = command.Parameters;
        Add(p, "count", NpgsqlDbType.Integer, entries.Count);
        Add(p, "status", NpgsqlDbType.Text, append.Status);
        Add(p, "result", NpgsqlDbType.Text, append.Result);
        Add(p, "error", NpgsqlDbType.Text, append.Error);
        Add(p, "reason", NpgsqlDbType.Text, append.Reason);
        Add(p, "custom", NpgsqlDbType.Text, append.Custom);
        Add(p, "at", NpgsqlDbType.Bigint, append.At);
        Add(p, "terminal", NpgsqlDbType.Boolean, append.Terminal);
        Add(p, "runnable", NpgsqlDbType.Boolean, append.Runnable);
        Add(p, "release", NpgsqlDbType.Boolean, append.Release);
        Add(p, "recovered", NpgsqlDbType.Boolean, append.Recovered);
        Add(p, "failed", NpgsqlDbType.Boolean, append.FailedRecovery);
        Add(p, "point", NpgsqlDbType.Text, append.RecoveryPoint);
        Add(p, "signalKinds", NpgsqlDbType.Text, append.SignalKinds);
        // One parameter, null for the appends that journal no model call (most): this statement runs for every lone append.
        Add(p, "tokens", NpgsqlDbType.Array | NpgsqlDbType.Bigint,
            append.Tokens is { } t ? new[] { t.InputTokens, t.OutputTokens, t.TotalTokens, t.ModelCalls } : null);
        Add(p, "due", NpgsqlDbType.Bigint, append.Due);
        Add(p, "waiting", NpgsqlDbType.Array | NpgsqlDbType.Text, append.Waiting);
        Add(p, "id", NpgsqlDbType.Text, append.Lease.RunId);
        Add(p, "owner", NpgsqlDbType.Text, append.Lease.Owner);
        Add(p, "epoch", NpgsqlDbType.Bigint, append.Lease.Epoch);
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

    /// <summary>
    /// Writes a group-commit batch of appends in one implicit transaction (all of it commits, or none) and returns
    /// whether each one's fence held. Each statement touches a run at most once (one UPDATE cannot change a row twice):
    /// the first carries every run's first append, the next their second ones, and so on, so a run's appends keep
    /// their order; the later statements lock no rows the first did not.
    /// </summary>
    private static async Task<bool[]> ExecuteAppendsAsync(NpgsqlConnection connection, IReadOnlyList<PostgresAppend> appends)
    {
        var rounds = new List<List<PostgresAppend>>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var append in appends)
        {
            var round = seen.TryGetValue(append.Lease.RunId, out var previous) ? previous + 1 : 0;
            seen[append.Lease.RunId] = round;
            if (round == rounds.Count)
            {
                rounds.Add([]);
            }
            rounds[round].Add(append);
        }
        using var batch = new NpgsqlBatch(connection);
        var inboxStatements = new int[rounds.Count];
        for (var r = 0; r < rounds.Count; r++)
        {
            var round = rounds[r];
            // A lone append (a quiet worker) takes the single-run statement: cheaper than the array form for one row.
            batch.BatchCommands.Add(round.Count == 1 ? FencedAppendCommand(round[0])
                : round.TrueForAll(a => a.IsPlain) ? BatchedPlainAppendCommand(round) : BatchedAppendCommand(round));
            // Right after its round: a later round's release of the same run would fail the consumption's lease check.
            foreach (var inbox in InboxCommands(round))
            {
                batch.BatchCommands.Add(inbox);
                inboxStatements[r]++;
            }
        }
        if (PutMessagesCommand(appends) is { } messages)
        {
            batch.BatchCommands.Add(messages); // last: read past like the rounds' trailing statements
        }
        var held = new HashSet<PostgresAppend>();
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            for (var r = 0; r < rounds.Count; r++)
            {
                var round = rounds[r];
                if (round.Count == 1)
                {
                    if (await reader.ReadAsync().ConfigureAwait(false))
                    {
                        held.Add(round[0]); // a row: the fence held
                    }
                }
                else
                {
                    var heldRuns = new HashSet<string>(StringComparer.Ordinal);
                    while (await reader.ReadAsync().ConfigureAwait(false))
                    {
                        heldRuns.Add(reader.GetString(0));
                    }
                    held.UnionWith(round.Where(a => heldRuns.Contains(a.Lease.RunId)));
                }
                await reader.NextResultAsync().ConfigureAwait(false);
                for (var i = inboxStatements[r]; i > 0; i--)
                {
                    await reader.NextResultAsync().ConfigureAwait(false); // past the ids the inbox statements return
                }
            }
        }
        return [.. appends.Select(held.Contains)];
    }

    /// <summary>
    /// <see cref="BatchedAppendSql"/> for appends of distinct runs: the per-run values as one array each, the entries
    /// flattened with their run and position, so the statement and its parameters are the same whatever the batch size
    /// (and stay prepared).
    /// </summary>
    private static NpgsqlBatchCommand BatchedAppendCommand(List<PostgresAppend> appends)
    {
        var n = appends.Count;
        var statuses = new string?[n];
        var results = new string?[n];
        var errors = new string?[n];
        var reasons = new string?[n];
        var customs = new string?[n];
        var terminals = new bool[n];
        var runnables = new bool[n];
        var releases = new bool[n];
        var recovereds = new bool[n];
        var dues = new long?[n];
        var waitings = new string?[n];
        var faileds = new bool[n];
        var points = new string?[n];
        var signalKinds = new string?[n];
        for (var i = 0; i < n; i++)
        {
            var a = appends[i];
            (statuses[i], results[i], errors[i], reasons[i], customs[i]) = (a.Status, a.Result, a.Error, a.Reason, a.Custom);
            (terminals[i], runnables[i], releases[i], recovereds[i], dues[i]) = (a.Terminal, a.Runnable, a.Release, a.Recovered, a.Due);
            (faileds[i], points[i], signalKinds[i]) = (a.FailedRecovery, a.RecoveryPoint, a.SignalKinds);
            waitings[i] = a.Waiting is null ? null : StoreJson.Serialize(a.Waiting);
        }
        var command = BatchedCommand(BatchedAppendSql, appends);
        var p = command.Parameters;
        Add(p, "statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, statuses);
        Add(p, "results", NpgsqlDbType.Array | NpgsqlDbType.Text, results);
        Add(p, "errors", NpgsqlDbType.Array | NpgsqlDbType.Text, errors);
        Add(p, "reasons", NpgsqlDbType.Array | NpgsqlDbType.Text, reasons);
        Add(p, "customs", NpgsqlDbType.Array | NpgsqlDbType.Text, customs);
        Add(p, "terminals", NpgsqlDbType.Array | NpgsqlDbType.Boolean, terminals);
        Add(p, "runnables", NpgsqlDbType.Array | NpgsqlDbType.Boolean, runnables);
        Add(p, "releases", NpgsqlDbType.Array | NpgsqlDbType.Boolean, releases);
        Add(p, "recovereds", NpgsqlDbType.Array | NpgsqlDbType.Boolean, recovereds);
        Add(p, "dues", NpgsqlDbType.Array | NpgsqlDbType.Bigint, dues);
        Add(p, "waitings", NpgsqlDbType.Array | NpgsqlDbType.Text, waitings);
        Add(p, "faileds", NpgsqlDbType.Array | NpgsqlDbType.Boolean, faileds);
        Add(p, "points", NpgsqlDbType.Array | NpgsqlDbType.Text, points);
        Add(p, "signalKinds", NpgsqlDbType.Array | NpgsqlDbType.Text, signalKinds);
        Add(p, "tins", NpgsqlDbType.Array | NpgsqlDbType.Bigint, appends.Select(a => a.Tokens?.InputTokens ?? 0).ToArray());
        Add(p, "touts", NpgsqlDbType.Array | NpgsqlDbType.Bigint, appends.Select(a => a.Tokens?.OutputTokens ?? 0).ToArray());
        Add(p, "ttotals", NpgsqlDbType.Array | NpgsqlDbType.Bigint, appends.Select(a => a.Tokens?.TotalTokens ?? 0).ToArray());
        Add(p, "tcalls", NpgsqlDbType.Array | NpgsqlDbType.Bigint, appends.Select(a => a.Tokens?.ModelCalls ?? 0).ToArray());
        return command;
    }

    /// <summary>
    /// Inbox changes that share the group commit: consuming signals (a run took a signal and goes on, keeping its lease)
    /// and a release to wait for signals; not together, and without approvals, a parent to tell or a successor. Their
    /// statements follow the round of fences that carried them (<see cref="InboxCommands"/>).
    /// </summary>
    private static bool InboxChangesBatchable(RunUpdate update)
    {
        var transition = update.Transition;
        if (update.Approvals?.Opened is { Count: > 0 } || update.Approvals?.Closed is { Count: > 0 } || transition?.NotifyParent is not null || update.ContinueAs is not null)
        {
            return false;
        }
        var release = transition?.ReleaseLease == true;
        return update.Inbox?.ConsumedSignals is { Count: > 0 }
            ? !release // the consumption's lease check needs the lease still held
            : release && transition!.WaitsForSignals is { Count: > 0 };
    }

    private static IEnumerable<NpgsqlBatchCommand> InboxCommands(List<PostgresAppend> round)
    {
        if (round.Exists(a => a.ConsumedSignals is not null))
        {
            yield return ConsumeSignalsCommand(round);
        }
        if (round.Exists(a => a.WaitsForSignals))
        {
            yield return WakeReleasedCommand(round);
        }
    }

    /// <summary>
    /// After a round that released runs to wait for signals: a released run whose inbox already holds one of the names it
    /// waits for is due now. A fresh snapshot (this statement's) sees every signal committed before it; a sender that
    /// commits later locked the run's row after this transaction and sees the release (see SendSignalAsync).
    /// </summary>
    private const string WakeReleasedSql =
        "UPDATE runs SET due_at = w.at, updated_at = w.at, status = 'Waiting' FROM unnest(@runs, @ats) AS w(run_id, at) " +
        "WHERE runs.run_id = w.run_id AND runs.status IN ('Waiting', 'NeedsAttention') AND runs.owner IS NULL " +
        "AND (runs.due_at IS NULL OR runs.due_at > w.at) " +
        "AND EXISTS (SELECT 1 FROM signals s WHERE s.run_id = runs.run_id AND s.name = ANY(runs.waiting_for)) RETURNING runs.run_id;";

    private static NpgsqlBatchCommand WakeReleasedCommand(List<PostgresAppend> round)
    {
        var released = round.FindAll(a => a.WaitsForSignals);
        var command = new NpgsqlBatchCommand(WakeReleasedSql);
        Add(command.Parameters, "runs", NpgsqlDbType.Array | NpgsqlDbType.Text, released.ConvertAll(a => a.Lease.RunId).ToArray());
        Add(command.Parameters, "ats", NpgsqlDbType.Array | NpgsqlDbType.Bigint, released.ConvertAll(a => a.At).ToArray());
        return command;
    }

    /// <summary>
    /// Deletes the consumed signals of a round's appends whose fence held, in the batch's transaction, right after the
    /// round. These appends keep the lease, so a run then still held by the append's owner at its epoch is exactly one
    /// whose fence held (its row stays locked by this transaction). It returns the ids it deleted, so that it is a result
    /// set of its own in the batch's reader.
    /// </summary>
    private const string ConsumeSignalsSql =
        "DELETE FROM signals s USING unnest(@runs, @owners, @epochs, @signalIds) AS d(run_id, owner, epoch, id) " +
        "WHERE s.run_id = d.run_id AND s.id = d.id " +
        "AND EXISTS (SELECT 1 FROM runs r WHERE r.run_id = d.run_id AND r.owner = d.owner AND r.lease_epoch = d.epoch) RETURNING s.id;";

    private static NpgsqlBatchCommand ConsumeSignalsCommand(IReadOnlyList<PostgresAppend> appends)
    {
        var consumed = appends.Where(a => a.ConsumedSignals is not null).SelectMany(a => a.ConsumedSignals!.Select(id => (a.Lease, Id: id))).ToList();
        var command = new NpgsqlBatchCommand(ConsumeSignalsSql);
        var p = command.Parameters;
        Add(p, "runs", NpgsqlDbType.Array | NpgsqlDbType.Text, consumed.ConvertAll(c => c.Lease.RunId).ToArray());
        Add(p, "owners", NpgsqlDbType.Array | NpgsqlDbType.Text, consumed.ConvertAll(c => c.Lease.Owner).ToArray());
        Add(p, "epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint, consumed.ConvertAll(c => c.Lease.Epoch).ToArray());
        Add(p, "signalIds", NpgsqlDbType.Array | NpgsqlDbType.Bigint, consumed.ConvertAll(c => c.Id).ToArray());
        return command;
    }

    /// <summary><see cref="BatchedPlainAppendSql"/> for plain appends of distinct runs.</summary>
    private static NpgsqlBatchCommand BatchedPlainAppendCommand(List<PostgresAppend> appends) => BatchedCommand(BatchedPlainAppendSql, appends);

    /// <summary>A batched statement with what both forms take: each run's fence (id, owner, epoch), its entry count and
    /// time, and the entries.</summary>
    private static NpgsqlBatchCommand BatchedCommand(string sql, List<PostgresAppend> appends)
    {
        var command = new NpgsqlBatchCommand(sql);
        var p = command.Parameters;
        Add(p, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, appends.ConvertAll(a => a.Lease.RunId).ToArray());
        Add(p, "owners", NpgsqlDbType.Array | NpgsqlDbType.Text, appends.ConvertAll(a => a.Lease.Owner).ToArray());
        Add(p, "epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint, appends.ConvertAll(a => a.Lease.Epoch).ToArray());
        Add(p, "counts", NpgsqlDbType.Array | NpgsqlDbType.Integer, appends.ConvertAll(a => a.Entries.Count).ToArray());
        Add(p, "ats", NpgsqlDbType.Array | NpgsqlDbType.Bigint, appends.ConvertAll(a => a.At).ToArray());
        AddEntries(p, appends);
        return command;
    }

    private static void AddEntries(NpgsqlParameterCollection p, List<PostgresAppend> appends)
    {
        var count = appends.Sum(a => a.Entries.Count);
        var runs = new string[count];
        var positions = new int[count];
        var seqs = new int[count];
        var kinds = new string[count];
        var names = new string[count];
        var attempts = new int[count];
        var starteds = new long?[count];
        var recordeds = new long[count];
        var payloads = new string?[count];
        var errors = new string?[count];
        var retries = new long?[count];
        var k = 0;
        foreach (var append in appends)
        {
            for (var pos = 0; pos < append.Entries.Count; pos++, k++)
            {
                var e = append.Entries[pos];
                (runs[k], positions[k], seqs[k], kinds[k], names[k], attempts[k]) = (append.Lease.RunId, pos, e.Sequence, e.Kind.ToString(), e.Name, e.Attempt);
                (starteds[k], recordeds[k], payloads[k], errors[k], retries[k]) = (Ms(e.StartedAt), Ms(e.RecordedAt), e.Payload, ToJson(e.Error), Ms(e.RetryAt));
            }
        }
        Add(p, "entryRuns", NpgsqlDbType.Array | NpgsqlDbType.Text, runs);
        Add(p, "positions", NpgsqlDbType.Array | NpgsqlDbType.Integer, positions);
        Add(p, "seqs", NpgsqlDbType.Array | NpgsqlDbType.Integer, seqs);
        Add(p, "kinds", NpgsqlDbType.Array | NpgsqlDbType.Text, kinds);
        Add(p, "names", NpgsqlDbType.Array | NpgsqlDbType.Text, names);
        Add(p, "attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer, attempts);
        Add(p, "starteds", NpgsqlDbType.Array | NpgsqlDbType.Bigint, starteds);
        Add(p, "recordeds", NpgsqlDbType.Array | NpgsqlDbType.Bigint, recordeds);
        Add(p, "payloads", NpgsqlDbType.Array | NpgsqlDbType.Text, payloads);
        Add(p, "entryErrors", NpgsqlDbType.Array | NpgsqlDbType.Text, errors);
        Add(p, "retries", NpgsqlDbType.Array | NpgsqlDbType.Bigint, retries);
    }

    private Task<bool> AppendDirectAsync(PostgresAppend append, CancellationToken cancellationToken) =>
        UseAsync(async (connection, ct) =>
        {
            using var batch = new NpgsqlBatch(connection) { BatchCommands = { FencedAppendCommand(append) } };
            if (append.Messages is { } messages)
            {
                // One implicit transaction with the fence: a fenced-out append links them to its run all the same.
                batch.BatchCommands.Add(PutMessagesCommand(append.Lease.RunId, messages));
            }
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
