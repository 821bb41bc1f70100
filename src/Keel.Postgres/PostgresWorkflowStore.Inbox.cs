using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

// Signal inboxes and pending approvals. A sender locks the run's row before it inserts, and a run released to wait
// for signals looks for them in a statement after its release: whichever of the two commits second sees the other, so
// a signal is never left unseen by a run that waits for it.
public sealed partial class PostgresWorkflowStore
{
    private const string LockRunSql = "SELECT status, owner, lease_expires_at, CASE WHEN owner IS NULL THEN waiting_kinds END FROM runs WHERE run_id = @id FOR UPDATE;";

    private const string InsertSignalSql =
        "WITH ins AS (INSERT INTO signals (run_id, name, payload, sent_at) VALUES (@id, @name, @payload, @at)) " +
        "UPDATE runs SET due_at = @at, updated_at = @at, status = 'Waiting' WHERE run_id = @id AND status IN ('Waiting', 'NeedsAttention') AND owner IS NULL " +
        "AND (due_at IS NULL OR due_at > @at) AND @name = ANY(waiting_for);";

    // The batched send: the runs' rows locked in run id order (as appends and renewals lock them), then the accepted
    // signals inserted in the order they were sent and the released runs that wait for one of their names made due.
    private const string LockRunsSql =
        "SELECT run_id, status, owner, lease_expires_at, CASE WHEN owner IS NULL THEN waiting_kinds END FROM runs WHERE run_id = ANY(@ids) ORDER BY run_id FOR UPDATE;";

    private const string InsertSignalsSql =
        "WITH input AS (SELECT * FROM unnest(@ids, @names, @payloads, @ats) WITH ORDINALITY AS s(run_id, name, payload, sent_at, ord)), " +
        "ins AS (INSERT INTO signals (run_id, name, payload, sent_at) SELECT run_id, name, payload, sent_at FROM input ORDER BY ord) " +
        "UPDATE runs SET due_at = w.at, updated_at = w.at, status = 'Waiting' " +
        "FROM (SELECT i.run_id, min(i.sent_at) AS at FROM input i JOIN runs r ON r.run_id = i.run_id " +
        "  WHERE i.name = ANY(r.waiting_for) GROUP BY i.run_id) AS w " +
        "WHERE runs.run_id = w.run_id AND runs.status IN ('Waiting', 'NeedsAttention') AND runs.owner IS NULL " +
        "AND (runs.due_at IS NULL OR runs.due_at > w.at);";

    /// <inheritdoc />
    public Task<SignalOutcome> SendSignalAsync(NewSignal signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        // Batched: the signal is stored in one transaction with whatever other sends are queued (a broadcast to
        // thousands of waiting runs does not pay a transaction each).
        return _signals is null ? SendSignalDirectAsync(signal, cancellationToken) : GroupCommitAsync(_signals, signal, cancellationToken);
    }

    private static async Task<SignalOutcome[]> InsertSignalsAsync(NpgsqlConnection connection, IReadOnlyList<NewSignal> signals)
    {
        var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);
        var states = new Dictionary<string, (string Status, bool HasOwner, long? LeaseExpires, string? Kinds)>(StringComparer.Ordinal);
        using (var lockRuns = new NpgsqlCommand(LockRunsSql, connection, transaction))
        {
            Add(lockRuns, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, signals.Select(s => s.RunId).Distinct(StringComparer.Ordinal).ToArray());
            var reader = await lockRuns.ExecuteReaderAsync().ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    var hasOwner = !await reader.IsDBNullAsync(2).ConfigureAwait(false);
                    long? expires = await reader.IsDBNullAsync(3).ConfigureAwait(false) ? null : reader.GetInt64(3);
                    var kinds = await reader.IsDBNullAsync(4).ConfigureAwait(false) ? null : reader.GetString(4);
                    states[reader.GetString(0)] = (reader.GetString(1), hasOwner, expires, kinds);
                }
            }
        }
        var outcomes = new SignalOutcome[signals.Count];
        var accepted = new List<NewSignal>(signals.Count);
        for (var i = 0; i < signals.Count; i++)
        {
            var signal = signals[i];
            if (!states.TryGetValue(signal.RunId, out var state))
            {
                outcomes[i] = SignalOutcome.NotFound;
            }
            else if (Enum.Parse<RunStatus>(state.Status).IsTerminal())
            {
                outcomes[i] = SignalOutcome.AlreadyFinished;
            }
            else if (!StoreJson.SignalFits(state.Kinds, signal.Name, signal.Payload))
            {
                outcomes[i] = SignalOutcome.Refused;
            }
            else
            {
                accepted.Add(signal);
                outcomes[i] = state.HasOwner && state.LeaseExpires >= Ms(signal.SentAt) ? SignalOutcome.StoredHeld : SignalOutcome.Stored;
            }
        }
        if (accepted.Count > 0)
        {
            using var insert = new NpgsqlCommand(InsertSignalsSql, connection, transaction);
            Add(insert, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, accepted.ConvertAll(s => s.RunId).ToArray());
            Add(insert, "names", NpgsqlDbType.Array | NpgsqlDbType.Text, accepted.ConvertAll(s => s.Name).ToArray());
            Add(insert, "payloads", NpgsqlDbType.Array | NpgsqlDbType.Text, accepted.ConvertAll(s => s.Payload).ToArray());
            Add(insert, "ats", NpgsqlDbType.Array | NpgsqlDbType.Bigint, accepted.ConvertAll(s => Ms(s.SentAt)).ToArray());
            await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        await transaction.CommitAsync().ConfigureAwait(false);
        return outcomes;
    }

    private Task<SignalOutcome> SendSignalDirectAsync(NewSignal signal, CancellationToken cancellationToken) =>
        UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            var state = await LockRunAsync(connection, transaction, signal.RunId, signal.SentAt, ct).ConfigureAwait(false);
            if (state is null)
            {
                return SignalOutcome.NotFound;
            }
            if (state.Value.Status.IsTerminal())
            {
                return SignalOutcome.AlreadyFinished;
            }
            if (!StoreJson.SignalFits(state.Value.Kinds, signal.Name, signal.Payload))
            {
                return SignalOutcome.Refused;
            }
            await InsertSignalAsync(connection, transaction, signal.RunId, signal.Name, signal.Payload, signal.SentAt, ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return state.Value.Held ? SignalOutcome.StoredHeld : SignalOutcome.Stored;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredSignal>> GetSignalsAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync<IReadOnlyList<StoredSignal>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand("SELECT id, name, payload, sent_at FROM signals WHERE run_id = @run ORDER BY id;", connection);
            Add(command, "run", NpgsqlDbType.Text, runId);
            var signals = new List<StoredSignal>();
            var r = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var rScope = r.ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                signals.Add(new StoredSignal(r.GetInt64(0), r.GetString(1), NullableString(r, 2), FromMs(r, 3)!.Value));
            }
            return signals;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return UseAsync<IReadOnlyList<PendingApproval>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand(
                "SELECT a.run_id, r.workflow, a.seq, a.name, a.request, a.requested_at FROM approvals a JOIN runs r ON r.run_id = a.run_id " +
                "WHERE a.decided_at IS NULL AND r.status NOT IN ('Completed', 'Failed', 'Cancelled') AND (@run::text IS NULL OR a.run_id = @run) " +
                "ORDER BY a.requested_at, a.run_id, a.seq LIMIT @limit;", connection);
            Add(command, "run", NpgsqlDbType.Text, runId);
            Add(command, "limit", NpgsqlDbType.Integer, limit);
            var approvals = new List<PendingApproval>();
            var r = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var rScope = r.ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                approvals.Add(PendingApproval.FromStored(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.GetString(4), FromMs(r, 5)!.Value));
            }
            return approvals;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<DecideOutcome> DecideApprovalAsync(string runId, int sequence, string signalName, string decision, DateTimeOffset at,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(signalName);
        ArgumentNullException.ThrowIfNull(decision);
        return UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            var state = await LockRunAsync(connection, transaction, runId, at, ct).ConfigureAwait(false);
            if (state is null)
            {
                return DecideOutcome.NotPending;
            }
            if (state.Value.Status.IsTerminal())
            {
                return DecideOutcome.RunFinished;
            }
            using (var check = new NpgsqlCommand("SELECT decided_at FROM approvals WHERE run_id = @run AND seq = @seq FOR UPDATE;", connection, transaction))
            {
                Add(check, "run", NpgsqlDbType.Text, runId);
                Add(check, "seq", NpgsqlDbType.Integer, sequence);
                switch (await check.ExecuteScalarAsync(ct).ConfigureAwait(false))
                {
                    case null:
                        return DecideOutcome.NotPending;
                    case long:
                        return DecideOutcome.AlreadyDecided;
                }
            }
            using (var mark = new NpgsqlCommand("UPDATE approvals SET decided_at = @at WHERE run_id = @run AND seq = @seq;", connection, transaction))
            {
                Add(mark, "at", NpgsqlDbType.Bigint, Ms(at));
                Add(mark, "run", NpgsqlDbType.Text, runId);
                Add(mark, "seq", NpgsqlDbType.Integer, sequence);
                await mark.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await InsertSignalAsync(connection, transaction, runId, signalName, decision, at, ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return state.Value.Held ? DecideOutcome.DecidedHeld : DecideOutcome.Decided;
        }, cancellationToken);
    }

    private static async Task<(RunStatus Status, bool Held, string? Kinds)?> LockRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId,
        DateTimeOffset at, CancellationToken ct)
    {
        using var select = new NpgsqlCommand(LockRunSql, connection, transaction);
        Add(select, "id", NpgsqlDbType.Text, runId);
        var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }
        var held = !await reader.IsDBNullAsync(1, ct).ConfigureAwait(false) && !await reader.IsDBNullAsync(2, ct).ConfigureAwait(false)
            && reader.GetInt64(2) >= Ms(at);
        var kinds = await reader.IsDBNullAsync(3, ct).ConfigureAwait(false) ? null : reader.GetString(3);
        return (Enum.Parse<RunStatus>(reader.GetString(0)), held, kinds);
    }

    private static async Task InsertSignalAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, string name, string? payload,
        DateTimeOffset at, CancellationToken ct)
    {
        using var insert = new NpgsqlCommand(InsertSignalSql, connection, transaction);
        Add(insert, "id", NpgsqlDbType.Text, runId);
        Add(insert, "name", NpgsqlDbType.Text, name);
        Add(insert, "payload", NpgsqlDbType.Text, payload);
        Add(insert, "at", NpgsqlDbType.Bigint, Ms(at));
        await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static bool HasInboxChanges(RunUpdate update) =>
        update.Inbox?.ConsumedSignals is { Count: > 0 } || update.Approvals?.Opened is { Count: > 0 } || update.Approvals?.Closed is { Count: > 0 }
        || update.Transition?.NotifyParent is not null || update.ContinueAs is not null || update.Transition is { ReleaseLease: true, WaitsForSignals.Count: > 0 };

    /// <summary>
    /// An append that also changes the inbox, in an explicit transaction: the fence first (nothing else is written when
    /// it fails), then the inbox statements, each with a fresh snapshot (READ COMMITTED), so a release sees a signal
    /// that committed while the fence waited for the run's row.
    /// </summary>
    private Task<bool> AppendWithInboxAsync(NpgsqlBatchCommand fence, string runId, RunUpdate update, CancellationToken cancellationToken) =>
        UseAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            if (update.Transition?.NotifyParent is { } notice)
            {
                // The child's row and its parent's, locked in run id order as lease renewal locks them (no deadlock);
                // holding the parent's row, the signal cannot slip past a release of the parent (see SendSignalAsync).
                using var lockBoth = new NpgsqlCommand("SELECT run_id FROM runs WHERE run_id = ANY(@ids) ORDER BY run_id FOR UPDATE;", connection, transaction);
                Add(lockBoth, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, new[] { runId, notice.ParentRunId });
                await lockBoth.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            using (var first = new NpgsqlBatch(connection, transaction) { BatchCommands = { fence } })
            {
                if (await first.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                {
                    return false; // fenced out: the transaction rolls back with nothing written
                }
            }
            using var inbox = new NpgsqlBatch(connection, transaction);
            if (update.Inbox?.ConsumedSignals is { Count: > 0 } consumed)
            {
                var delete = new NpgsqlBatchCommand("DELETE FROM signals WHERE run_id = @run AND id = ANY(@ids);");
                Add(delete.Parameters, "run", NpgsqlDbType.Text, runId);
                Add(delete.Parameters, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, consumed.ToArray());
                inbox.BatchCommands.Add(delete);
            }
            foreach (var approval in update.Approvals?.Opened ?? [])
            {
                var insert = new NpgsqlBatchCommand(
                    "INSERT INTO approvals (run_id, seq, name, request, requested_at, deadline) VALUES (@run, @seq, @name, @request, @at, @deadline) " +
                    "ON CONFLICT (run_id, seq) DO NOTHING;");
                Add(insert.Parameters, "run", NpgsqlDbType.Text, runId);
                Add(insert.Parameters, "seq", NpgsqlDbType.Integer, approval.Sequence);
                Add(insert.Parameters, "name", NpgsqlDbType.Text, approval.Name);
                Add(insert.Parameters, "request", NpgsqlDbType.Text, approval.Request);
                Add(insert.Parameters, "at", NpgsqlDbType.Bigint, Ms(approval.RequestedAt));
                Add(insert.Parameters, "deadline", NpgsqlDbType.Bigint, Ms(approval.Deadline));
                inbox.BatchCommands.Add(insert);
            }
            if (update.Approvals?.Closed is { Count: > 0 } closed)
            {
                var delete = new NpgsqlBatchCommand("DELETE FROM approvals WHERE run_id = @run AND seq = ANY(@seqs);");
                Add(delete.Parameters, "run", NpgsqlDbType.Text, runId);
                Add(delete.Parameters, "seqs", NpgsqlDbType.Array | NpgsqlDbType.Integer, closed.ToArray());
                inbox.BatchCommands.Add(delete);
            }
            if (update.Transition is { ReleaseLease: true, WaitsForSignals.Count: > 0 })
            {
                var wake = new NpgsqlBatchCommand(
                    "UPDATE runs SET due_at = @at, updated_at = @at, status = 'Waiting' WHERE run_id = @run AND status IN ('Waiting', 'NeedsAttention') AND owner IS NULL " +
                    "AND (due_at IS NULL OR due_at > @at) " +
                    "AND EXISTS (SELECT 1 FROM signals s WHERE s.run_id = @run AND s.name = ANY(runs.waiting_for));");
                Add(wake.Parameters, "at", NpgsqlDbType.Bigint, Ms(update.At));
                Add(wake.Parameters, "run", NpgsqlDbType.Text, runId);
                inbox.BatchCommands.Add(wake);
            }
            if (update.ContinueAs is { } next)
            {
                // The insert trigger NOTIFYs idle workers of the new run.
                var insert = new NpgsqlBatchCommand(InsertRunSql + ";");
                AddNewRun(insert.Parameters, next);
                inbox.BatchCommands.Add(insert);
                var link = new NpgsqlBatchCommand("UPDATE runs SET continued_as = @next WHERE run_id = @run;");
                Add(link.Parameters, "next", NpgsqlDbType.Text, next.RunId);
                Add(link.Parameters, "run", NpgsqlDbType.Text, runId);
                inbox.BatchCommands.Add(link);
            }
            if (update.Messages is { Count: > 0 } messages)
            {
                inbox.BatchCommands.Add(PutMessagesCommand(runId, messages));
            }
            if (inbox.BatchCommands.Count > 0)
            {
                await inbox.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            if (update.Transition?.NotifyParent is { } parent)
            {
                await InsertSignalAsync(connection, transaction, parent.ParentRunId, parent.SignalName, parent.Payload, update.At, ct).ConfigureAwait(false);
            }
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
}
