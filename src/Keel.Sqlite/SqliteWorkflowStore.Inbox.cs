using Keel.Storage;

namespace Keel.Sqlite;

// Signal inboxes and pending approvals. Every change here goes through the single writer, so a signal and a run's
// release never interleave: whichever commits second sees the other.
public sealed partial class SqliteWorkflowStore
{
    private const string WakeIfWaitingSql =
        "UPDATE runs SET due_at = $at, updated_at = $at, status = 'Waiting' WHERE run_id = $id AND status IN ('Waiting', 'NeedsAttention') " +
        "AND owner IS NULL AND (due_at IS NULL OR due_at > $at) AND EXISTS (SELECT 1 FROM json_each(waiting_for) WHERE value = $name);";

    /// <inheritdoc />
    public Task<SignalOutcome> SendSignalAsync(NewSignal signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return WriteAsync(w =>
        {
            var state = ReadRunState(w, signal.RunId, signal.SentAt);
            if (state is null)
            {
                return SignalOutcome.NotFound;
            }
            if (state.Value.Status.IsTerminal())
            {
                return SignalOutcome.AlreadyFinished;
            }
            if (!state.Value.Held && !StoreJson.SignalFits(state.Value.Kinds, signal.Name, signal.Payload))
            {
                return SignalOutcome.Refused;
            }
            InsertSignal(w, signal.RunId, signal.Name, signal.Payload, signal.SentAt);
            return state.Value.Held ? SignalOutcome.StoredHeld : SignalOutcome.Stored;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredSignal>> GetSignalsAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return ReadAsync<IReadOnlyList<StoredSignal>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, name, payload, sent_at FROM signals WHERE run_id = $run ORDER BY id;";
            command.Parameters.AddWithValue("$run", runId);
            var signals = new List<StoredSignal>();
            using var r = command.ExecuteReader();
            while (r.Read())
            {
                signals.Add(new StoredSignal(r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), AtMs(r, 3)));
            }
            return signals;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PendingApproval>> ListPendingApprovalsAsync(string? runId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return ReadAsync<IReadOnlyList<PendingApproval>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText =
                "SELECT a.run_id, r.workflow, a.seq, a.name, a.request, a.requested_at FROM approvals a JOIN runs r ON r.run_id = a.run_id " +
                "WHERE a.decided_at IS NULL AND r.status NOT IN ('Completed', 'Failed', 'Cancelled') AND ($run IS NULL OR a.run_id = $run) " +
                "ORDER BY a.requested_at, a.run_id, a.seq LIMIT $limit;";
            command.Parameters.AddWithValue("$run", (object?)runId ?? DBNull.Value);
            command.Parameters.AddWithValue("$limit", limit);
            var approvals = new List<PendingApproval>();
            using var r = command.ExecuteReader();
            while (r.Read())
            {
                approvals.Add(PendingApproval.FromStored(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.GetString(4),
                    AtMs(r, 5)));
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
        return WriteAsync(w =>
        {
            var state = ReadRunState(w, runId, at);
            if (state is null)
            {
                return DecideOutcome.NotPending;
            }
            if (state.Value.Status.IsTerminal())
            {
                return DecideOutcome.RunFinished;
            }
            var mark = w.Command("UPDATE approvals SET decided_at = $at WHERE run_id = $run AND seq = $seq;");
            mark.Parameters.Set("$at", Ms(at));
            mark.Parameters.Set("$run", runId);
            mark.Parameters.Set("$seq", sequence);
            var check = w.Command("SELECT decided_at FROM approvals WHERE run_id = $run AND seq = $seq;");
            check.Parameters.Set("$run", runId);
            check.Parameters.Set("$seq", sequence);
            switch (check.ExecuteScalar())
            {
                case null:
                    return DecideOutcome.NotPending;
                case long:
                    return DecideOutcome.AlreadyDecided;
            }
            mark.ExecuteNonQuery();
            InsertSignal(w, runId, signalName, decision, at);
            return state.Value.Held ? DecideOutcome.DecidedHeld : DecideOutcome.Decided;
        }, cancellationToken);
    }

    private static (RunStatus Status, bool Held, string? Kinds)? ReadRunState(WriteContext w, string runId, DateTimeOffset at)
    {
        var select = w.Command("SELECT status, owner, lease_expires_at, CASE WHEN owner IS NULL THEN waiting_kinds END FROM runs WHERE run_id = $id;");
        select.Parameters.Set("$id", runId);
        using var reader = select.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var held = !reader.IsDBNull(1) && !reader.IsDBNull(2) && reader.GetInt64(2) >= Ms(at);
        return (Enum.Parse<RunStatus>(reader.GetString(0)), held, reader.IsDBNull(3) ? null : reader.GetString(3));
    }

    private static void InsertSignal(WriteContext w, string runId, string name, string? payload, DateTimeOffset at)
    {
        var insert = w.Command("INSERT INTO signals (run_id, name, payload, sent_at) VALUES ($run, $name, $payload, $at);");
        insert.Parameters.Set("$run", runId);
        insert.Parameters.Set("$name", name);
        insert.Parameters.Set("$payload", Db(payload));
        insert.Parameters.Set("$at", Ms(at));
        insert.ExecuteNonQuery();
        var wake = w.Command(WakeIfWaitingSql);
        wake.Parameters.Set("$at", Ms(at));
        wake.Parameters.Set("$id", runId);
        wake.Parameters.Set("$name", name);
        wake.ExecuteNonQuery();
    }

    /// <summary>The inbox side of an append: consumed signals go, approvals open or close, and a run released to wait
    /// for a signal that is already in its inbox is due at once.</summary>
    private static void ApplyInboxChanges(WriteContext w, string runId, RunUpdate update)
    {
        if (update.Inbox?.ConsumedSignals is { Count: > 0 } consumed)
        {
            var delete = w.Command("DELETE FROM signals WHERE run_id = $run AND id IN (SELECT value FROM json_each($ids));");
            delete.Parameters.Set("$run", runId);
            delete.Parameters.Set("$ids", StoreJson.Serialize(consumed));
            delete.ExecuteNonQuery();
        }
        foreach (var approval in update.Approvals?.Opened ?? [])
        {
            var insert = w.Command(
                "INSERT INTO approvals (run_id, seq, name, request, requested_at, deadline) VALUES ($run, $seq, $name, $request, $at, $deadline) " +
                "ON CONFLICT (run_id, seq) DO NOTHING;");
            insert.Parameters.Set("$run", runId);
            insert.Parameters.Set("$seq", approval.Sequence);
            insert.Parameters.Set("$name", approval.Name);
            insert.Parameters.Set("$request", approval.Request);
            insert.Parameters.Set("$at", Ms(approval.RequestedAt));
            insert.Parameters.Set("$deadline", approval.Deadline is { } deadline ? Ms(deadline) : null);
            insert.ExecuteNonQuery();
        }
        foreach (var closed in update.Approvals?.Closed ?? [])
        {
            var delete = w.Command("DELETE FROM approvals WHERE run_id = $run AND seq = $seq;");
            delete.Parameters.Set("$run", runId);
            delete.Parameters.Set("$seq", closed);
            delete.ExecuteNonQuery();
        }
        if (update.ContinueAs is { } next)
        {
            InsertRun(w, next);
            var link = w.Command("UPDATE runs SET continued_as = $next WHERE run_id = $id;");
            link.Parameters.Set("$next", next.RunId);
            link.Parameters.Set("$id", runId);
            link.ExecuteNonQuery();
        }
        if (update.Transition?.NotifyParent is { } notice)
        {
            InsertSignal(w, notice.ParentRunId, notice.SignalName, notice.Payload, update.At);
        }
        if (update.Transition is { ReleaseLease: true, WaitsForSignals.Count: > 0 })
        {
            var wake = w.Command(
                "UPDATE runs SET due_at = $at, status = 'Waiting' WHERE run_id = $id AND status IN ('Waiting', 'NeedsAttention') AND (due_at IS NULL OR due_at > $at) " +
                "AND EXISTS (SELECT 1 FROM signals s WHERE s.run_id = $id AND s.name IN (SELECT value FROM json_each(runs.waiting_for)));");
            wake.Parameters.Set("$at", Ms(update.At));
            wake.Parameters.Set("$id", runId);
            wake.ExecuteNonQuery();
        }
    }
}
