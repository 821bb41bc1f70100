using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Sqlite;

public sealed partial class SqliteWorkflowStore
{
    private const string FencedAppendSql =
        "UPDATE runs SET " +
        // Progress, a clean release or a recovered suspect clears the run's blame; a failed recovery is charged.
        // (A quarantined run keeps its count, for people to see.)
        "recovery_attempts = CASE WHEN $failed = 1 THEN recovery_attempts + 1 WHEN $status = 'Blocked' THEN recovery_attempts " +
        "  WHEN $count > 0 OR $recovered = 1 OR $release = 1 THEN 0 ELSE recovery_attempts END, " +
        "interrupted = CASE WHEN $failed = 0 AND ($count > 0 OR $recovered = 1 OR $release = 1) THEN 0 ELSE interrupted END, " +
        // A suspect's first recovery point arms it: its own code runs from now on, so a death now is charged to it.
        "held_alone = CASE WHEN $count > 0 OR $recovered = 1 OR $release = 1 THEN 0 WHEN $point IS NOT NULL AND held_alone = 1 THEN 2 ELSE held_alone END, " +
        "recovery_point = CASE WHEN $failed = 0 AND ($count > 0 OR $recovered = 1 OR $release = 1) THEN NULL ELSE COALESCE($point, recovery_point) END, " +
        "pause_requested = CASE WHEN $status = 'Paused' THEN 0 ELSE pause_requested END, " +
        // The run's token totals grow with the append that journals the model calls: exact after any crash.
        "input_tokens = input_tokens + $tin, output_tokens = output_tokens + $tout, total_tokens = total_tokens + $ttotal, model_calls = model_calls + $tcalls, " +
        "status = COALESCE($status, status), result = COALESCE($result, result), error = COALESCE($error, error), " +
        "status_reason = CASE WHEN $status IS NULL OR ($reason IS NULL AND $status = 'Cancelled') THEN COALESCE($reason, status_reason) ELSE $reason END, custom_status = COALESCE($custom, custom_status), updated_at = $at, " +
        "completed_at = CASE WHEN $terminal = 1 THEN $at ELSE completed_at END, " +
        "due_at = CASE WHEN $runnable = 0 THEN NULL WHEN $release = 1 AND cancel_requested = 1 THEN $at WHEN $release = 1 AND $waiting IS NOT NULL THEN $due " +
        "  WHEN $release = 1 THEN COALESCE($due, $at) ELSE due_at END, " +
        "waiting_for = CASE WHEN $release = 1 THEN $waiting ELSE waiting_for END, " +
        "waiting_kinds = CASE WHEN $release = 1 THEN $kinds ELSE waiting_kinds END, " +
        "owner = CASE WHEN $release = 1 THEN NULL ELSE owner END, " +
        "lease_expires_at = CASE WHEN $release = 1 THEN NULL ELSE lease_expires_at END " +
        "WHERE run_id = $id AND owner = $owner AND lease_epoch = $epoch RETURNING " + JournalLengthSql + ";";

    // The common case, entries with no change to the run: the fence is only read, so the commit writes the journal's
    // pages and not the run's. The run must carry no blame already (the first append after a takeover clears it
    // through the fenced update); else, or when fenced out, no row comes back and the fenced update decides.
    private const string PlainAppendSql =
        "SELECT " + JournalLengthSql + " FROM runs WHERE run_id = ?1 AND owner = ?2 AND lease_epoch = ?3 AND recovery_attempts = 0 AND interrupted = 0;";

    private static readonly RunUpdate NoChange = new() { At = DateTimeOffset.UnixEpoch }; // only its flags are read: "at" is passed apart

    private const string InsertEntrySql =
        "INSERT INTO journal (run_id, idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at) " +
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11);";

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
        var status = update?.Transition?.Status;
        var terminal = status is { } s && s.IsTerminal();
        // A NeedsAttention run keeps the due time of its other waits (a timer, a deadline) and is claimed then.
        var runnable = status is not { } next || next.IsRunnable() || next == RunStatus.NeedsAttention;
        var at = update?.At ?? (entries.Count > 0 ? entries[^1].RecordedAt : DateTimeOffset.UnixEpoch);
        var errorJson = ToJson(update?.Transition?.Error);
        return WriteAsync(w =>
        {
            object? next = null;
            if (update is null)
            {
                next = w.Statement(PlainAppendSql).Bind(1, lease.RunId).Bind(2, lease.Owner).Bind(3, lease.Epoch).ExecuteScalar();
            }
            if (next is null)
            {
                var fence = w.Command(FencedAppendSql);
                var p = fence.Parameters;
                SetFence(p, lease);
                p.Set("$count", entries.Count);
                p.Set("$at", Ms(at));
                SetUpdate(p, update ?? NoChange, status, terminal, runnable, errorJson);
                next = fence.ExecuteScalar();
            }
            if (next is null)
            {
                return false; // fenced out: another worker holds the run
            }
            var index = (long)next;
            foreach (var entry in entries)
            {
                InsertEntry(w, lease.RunId, index++, entry);
            }
            if (update is not null)
            {
                ApplyInboxChanges(w, lease.RunId, update);
                InsertMessages(w, lease.RunId, update.Messages);
            }
            return true;
        }, cancellationToken);
    }

    private static void SetFence(SqliteParameterCollection p, RunLease lease)
    {
        p.Set("$id", lease.RunId);
        p.Set("$owner", lease.Owner);
        p.Set("$epoch", lease.Epoch);
    }

    private static void SetUpdate(SqliteParameterCollection p, RunUpdate update, RunStatus? status, bool terminal, bool runnable, string? errorJson)
    {
        var transition = update.Transition;
        var recovery = update.Recovery;
        p.Set("$status", status?.ToString());
        p.Set("$result", transition?.Result);
        p.Set("$error", errorJson);
        p.Set("$reason", transition?.StatusReason);
        p.Set("$custom", update.CustomStatus is null ? null : StoreJson.Serialize(update.CustomStatus));
        p.Set("$terminal", terminal ? 1 : 0);
        p.Set("$runnable", runnable ? 1 : 0);
        p.Set("$release", transition?.ReleaseLease == true ? 1 : 0);
        p.Set("$recovered", recovery?.Recovered == true ? 1 : 0);
        p.Set("$failed", recovery?.Failed == true ? 1 : 0);
        p.Set("$point", recovery?.Point);
        p.Set("$due", transition?.DueAt is { } due ? Ms(due) : null);
        p.Set("$waiting", transition?.WaitsForSignals is { } names ? StoreJson.Serialize(names) : null);
        p.Set("$kinds", transition?.WaitsForSignals is null ? null : transition.SignalPayloadKinds);
        p.Set("$tin", update.Tokens?.InputTokens ?? 0);
        p.Set("$tout", update.Tokens?.OutputTokens ?? 0);
        p.Set("$ttotal", update.Tokens?.TotalTokens ?? 0);
        p.Set("$tcalls", update.Tokens?.ModelCalls ?? 0);
    }

    private static void InsertEntry(WriteContext w, string runId, long index, JournalEntry entry)
    {
        w.Statement(InsertEntrySql)
            .Bind(1, runId).Bind(2, index).Bind(3, entry.Sequence).Bind(4, entry.Kind.ToString()).Bind(5, entry.Name).Bind(6, entry.Attempt)
            .Bind(7, entry.StartedAt is { } started ? Ms(started) : null).Bind(8, Ms(entry.RecordedAt)).Bind(9, entry.Payload)
            .Bind(10, ToJson(entry.Error)).Bind(11, entry.RetryAt is { } retry ? Ms(retry) : null)
            .ExecuteNonQuery();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JournalEntry>> GetJournalAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return ReadAsync<IReadOnlyList<JournalEntry>>(connection => SqliteJournalReader.Read(connection, runId), cancellationToken);
    }
}
