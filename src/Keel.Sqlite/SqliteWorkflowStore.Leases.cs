using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Sqlite;

public sealed partial class SqliteWorkflowStore
{
    // Free runs not suspect, and runs taken over from a dead (or stalled) holder for the first time since their last
    // progress: those are interrupted now, and claimed as usual.
    private const string ClaimSql =
        "UPDATE runs SET owner = $owner, lease_epoch = lease_epoch + 1, lease_expires_at = $expires, " +
        "interrupted = interrupted + CASE WHEN owner IS NULL THEN 0 ELSE 1 END, held_alone = 0, updated_at = $now, " +
        "status = CASE WHEN status IN ('Pending', 'Waiting', 'NeedsAttention') THEN 'Running' ELSE status END " +
        "WHERE run_id IN (SELECT run_id FROM runs " +
        "  WHERE due_at IS NOT NULL AND due_at <= $now AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention') " +
        "    AND (owner IS NULL AND interrupted < 2 OR owner IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at < $now) AND interrupted = 0) " +
        "    AND workflow IN (SELECT value FROM json_each($workflows)) " +
        "  ORDER BY priority DESC, due_at LIMIT $limit) " +
        "RETURNING " + ClaimedColumns + ";";

    // Suspects, to be run alone, charged-most first: free runs interrupted twice (or unblocked), and runs taken over again
    // from a dead holder before any progress. A holder that ran the run alone, and had begun to run its code (held_alone
    // 2: its first recovery point was written), died with it: that death is charged.
    private const string ClaimAloneSql =
        "UPDATE runs SET owner = $owner, lease_epoch = lease_epoch + 1, lease_expires_at = $expires, " +
        "recovery_attempts = recovery_attempts + CASE WHEN owner IS NOT NULL AND held_alone = 2 THEN 1 ELSE 0 END, " +
        "interrupted = interrupted + CASE WHEN owner IS NULL THEN 0 ELSE 1 END, held_alone = 1, updated_at = $now, " +
        "status = CASE WHEN status IN ('Pending', 'Waiting', 'NeedsAttention') THEN 'Running' ELSE status END " +
        "WHERE run_id IN (SELECT run_id FROM runs " +
        "  WHERE interrupted > 0 AND due_at IS NOT NULL AND due_at <= $now AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention') " +
        "    AND (owner IS NULL AND interrupted >= 2 OR owner IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at < $now)) " +
        "    AND workflow IN (SELECT value FROM json_each($workflows)) " +
        "  ORDER BY recovery_attempts DESC, priority DESC, due_at LIMIT $limit) " +
        "RETURNING " + ClaimedColumns + ";";

    private const string ClaimedColumns = RunColumns + ", lease_epoch, due_at, " + JournalLengthSql + ", held_alone, recovery_point";

    // Runs of a workflow held by any worker now: what its concurrency limit counts.
    private const string HeldCountSql =
        "SELECT count(*) FROM runs WHERE workflow = $workflow AND owner IS NOT NULL AND lease_expires_at >= $now " +
        "AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention');";

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = ClaimPlan.Create(request);
        var unlimited = StoreJson.Serialize(plan.Unlimited);
        return WriteAsync<IReadOnlyList<ClaimedRun>>(w =>
        {
            // One writer: counting a limited workflow's held runs and claiming more cannot race another claimer.
            var claimed = new List<(ClaimedRun Run, long Due)>();
            var alone = Math.Min(request.MaxAlone, request.MaxRuns);
            foreach (var (workflow, limit) in plan.Limited)
            {
                var room = request.MaxRuns - claimed.Count;
                if (room <= 0)
                {
                    break;
                }
                var count = w.Command(HeldCountSql);
                count.Parameters.Set("$workflow", workflow);
                count.Parameters.Set("$now", Ms(request.Now));
                var budget = Math.Min(room, limit - (int)(long)count.ExecuteScalar()!);
                if (budget > 0)
                {
                    var workflows = StoreJson.Serialize([workflow]);
                    var taken = alone > 0 ? Claim(w, ClaimAloneSql, request, workflows, 1, claimed) : 0;
                    alone -= taken;
                    if (budget - taken > 0)
                    {
                        Claim(w, ClaimSql, request, workflows, budget - taken, claimed);
                    }
                }
            }
            if (plan.Unlimited.Count > 0 && claimed.Count < request.MaxRuns)
            {
                if (alone > 0)
                {
                    Claim(w, ClaimAloneSql, request, unlimited, alone, claimed);
                }
                if (claimed.Count < request.MaxRuns)
                {
                    Claim(w, ClaimSql, request, unlimited, request.MaxRuns - claimed.Count, claimed);
                }
            }
            return [.. claimed.OrderByDescending(c => c.Run.Run.Priority).ThenBy(c => c.Due).Select(c => c.Run)];
        }, cancellationToken);
    }

    private static int Claim(WriteContext w, string sql, ClaimRequest request, string workflows, int limit, List<(ClaimedRun Run, long Due)> claimed)
    {
        var claim = w.Command(sql);
        claim.Parameters.Set("$owner", request.Owner);
        claim.Parameters.Set("$expires", Ms(request.LeaseExpiresAt));
        claim.Parameters.Set("$now", Ms(request.Now));
        claim.Parameters.Set("$workflows", workflows);
        claim.Parameters.Set("$limit", limit);
        using var reader = claim.ExecuteReader();
        var taken = 0;
        while (reader.Read())
        {
            var run = ReadRun(reader);
            claimed.Add((new ClaimedRun
            {
                Run = run, Lease = new RunLease(run.RunId, request.Owner, reader.GetInt64(RunColumnCount)), JournalLength = reader.GetInt64(RunColumnCount + 2),
                Alone = reader.GetInt64(RunColumnCount + 3) != 0, RecoveryPoint = reader.IsDBNull(RunColumnCount + 4) ? null : reader.GetString(RunColumnCount + 4),
            }, reader.GetInt64(RunColumnCount + 1)));
            taken++;
        }
        return taken;
    }

    /// <inheritdoc />
    public Task<LeaseRenewal> RenewLeasesAsync(string owner, IReadOnlyCollection<RunLease> leases, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(leases);
        var ids = StoreJson.Serialize(leases.Select(l => l.RunId));
        var epochs = leases.ToDictionary(l => l.RunId, l => l.Epoch, StringComparer.Ordinal);
        return WriteAsync(w =>
        {
            var select = w.Command("SELECT run_id, owner, lease_epoch, cancel_requested, pause_requested, " +
                "EXISTS (SELECT 1 FROM signals s WHERE s.run_id = runs.run_id) FROM runs WHERE run_id IN (SELECT value FROM json_each($ids));");
            select.Parameters.Set("$ids", ids);
            var lost = new HashSet<string>(epochs.Keys, StringComparer.Ordinal);
            var cancel = new List<string>();
            var pause = new List<string>();
            var signalled = new List<string>();
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    var runId = reader.GetString(0);
                    var held = !reader.IsDBNull(1) && reader.GetString(1) == owner && reader.GetInt64(2) == epochs[runId];
                    if (held)
                    {
                        lost.Remove(runId);
                        if (reader.GetInt64(3) != 0)
                        {
                            cancel.Add(runId);
                        }
                        if (reader.GetInt64(4) != 0)
                        {
                            pause.Add(runId);
                        }
                        if (reader.GetInt64(5) != 0)
                        {
                            signalled.Add(runId);
                        }
                    }
                }
            }
            var renew = w.Command("UPDATE runs SET lease_expires_at = $expires WHERE owner = $owner AND run_id IN (SELECT value FROM json_each($ids));");
            renew.Parameters.Set("$expires", Ms(expiresAt));
            renew.Parameters.Set("$owner", owner);
            renew.Parameters.Set("$ids", ids);
            renew.ExecuteNonQuery();
            return new LeaseRenewal([.. lost], cancel, pause, signalled);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> GetLeaseOwnersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<string>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT owner FROM runs WHERE owner IS NOT NULL;";
            var owners = new List<string>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                owners.Add(reader.GetString(0));
            }
            return owners;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> ExpireLeasesAsync(IReadOnlyCollection<string> owners, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        var json = StoreJson.Serialize(owners);
        return WriteAsync(w =>
        {
            var command = w.Command("UPDATE runs SET lease_expires_at = 0 WHERE owner IN (SELECT value FROM json_each($owners));");
            command.Parameters.Set("$owners", json);
            return command.ExecuteNonQuery();
        }, cancellationToken);
    }
}
