using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    /// <summary>
    /// Locks up to @limit runnable rows, skipping rows another claimer has locked, and takes them, in one round trip:
    /// first up to @alone suspects, to be run alone (charged-most first, through their own small partial index: free runs
    /// interrupted twice or unblocked, and runs taken over again from a dead holder before any progress; a holder that ran
    /// the run alone and had begun to run its code (held_alone 2: its first recovery point was written) died with it, so
    /// that death is charged to the run); then free runs (no owner) through their own
    /// partial index, which held runs are not in, so a claim does not wade through every run the workers hold; and, when
    /// @lapsed, runs whose lease expired, interrupted now. A row whose lease a concurrent claimer took between this
    /// statement's snapshot and its lock is re-checked on its newest version (READ COMMITTED), no longer matches, and is
    /// left out: no run is ever claimed twice.
    /// </summary>
    private const string ClaimSql =
        "WITH suspect AS (" +
        "  SELECT run_id, priority, due_at FROM runs " +
        "  WHERE interrupted > 0 AND due_at IS NOT NULL AND due_at <= @now AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention') " +
        "    AND (owner IS NULL AND interrupted >= 2 OR owner IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at < @now)) " +
        "    AND workflow = ANY(@workflows) " +
        "  ORDER BY recovery_attempts DESC, priority DESC, due_at LIMIT @alone FOR UPDATE SKIP LOCKED), " +
        "free AS (" +
        "  SELECT run_id, priority, due_at FROM runs " +
        "  WHERE owner IS NULL AND due_at IS NOT NULL AND due_at <= @now AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention') " +
        "    AND workflow = ANY(@workflows) AND interrupted < 2 " +
        "  ORDER BY priority DESC, due_at LIMIT @limit FOR UPDATE SKIP LOCKED), " +
        "lapsed AS (" +
        "  SELECT run_id, priority, due_at FROM runs " +
        "  WHERE @lapsed AND owner IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at < @now) AND interrupted = 0 " +
        "    AND due_at IS NOT NULL AND due_at <= @now AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention') " +
        "    AND workflow = ANY(@workflows) " +
        "  ORDER BY priority DESC, due_at LIMIT @limit FOR UPDATE SKIP LOCKED), " +
        "claimable AS (" +
        "  SELECT run_id AS claim_id, true AS alone FROM suspect " +
        "  UNION ALL (SELECT run_id, false FROM (SELECT * FROM free UNION ALL SELECT * FROM lapsed) AS c " +
        "    ORDER BY priority DESC, due_at LIMIT @limit - (SELECT count(*) FROM suspect))) " +
        "UPDATE runs SET owner = @owner, lease_epoch = lease_epoch + 1, lease_expires_at = @expires, " +
        "recovery_attempts = recovery_attempts + CASE WHEN claimable.alone AND owner IS NOT NULL AND held_alone = 2 THEN 1 ELSE 0 END, " +
        "interrupted = interrupted + CASE WHEN owner IS NULL THEN 0 ELSE 1 END, held_alone = CASE WHEN claimable.alone THEN 1 ELSE 0 END, updated_at = @now, " +
        "status = CASE WHEN status IN ('Pending', 'Waiting', 'NeedsAttention') THEN 'Running' ELSE status END " +
        "FROM claimable WHERE run_id = claimable.claim_id " +
        "RETURNING " + ClaimedColumns + ";";

    private const string ClaimedColumns = RunColumns + ", lease_epoch, due_at, next_index, held_alone, recovery_point";

    /// <summary>
    /// How often (on the claimers' clock) a claim also looks for runs whose lease expired: that search reads every held
    /// run (an index on the expiry would make every lease renewal rewrite the row's index entries), so it is not done at
    /// every claim. A lapsed run is taken over at most this long after its lease expired.
    /// </summary>
    private const long LapsedLeaseCheckMs = 250;

    // When a claim next looks for lapsed leases (Unix ms on the claimers' clock); 0: at the next claim.
    private long _nextLapsedCheckMs;

    /// <summary>Whether a claim at this time looks for lapsed leases: once per <see cref="LapsedLeaseCheckMs"/>, and
    /// at once when the clock went back (another clock, as in tests) or leases were expired here.</summary>
    private bool TakeLapsedCheck(long nowMs)
    {
        var next = Interlocked.Read(ref _nextLapsedCheckMs);
        if (nowMs < next && nowMs >= next - LapsedLeaseCheckMs)
        {
            return false;
        }
        return Interlocked.CompareExchange(ref _nextLapsedCheckMs, nowMs + LapsedLeaseCheckMs, next) == next;
    }

    // Runs of a workflow held by any worker now: what its concurrency limit counts.
    private const string HeldCountSql =
        "SELECT count(*) FROM runs WHERE workflow = @workflow AND owner IS NOT NULL AND lease_expires_at >= @now " +
        "AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention');";

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = ClaimPlan.Create(request);
        var lapsed = TakeLapsedCheck(Ms(request.Now));
        return UseAsync<IReadOnlyList<ClaimedRun>>(async (connection, ct) =>
        {
            var claimed = new List<(ClaimedRun Run, long Due)>();
            var alone = Math.Min(request.MaxAlone, request.MaxRuns);
            foreach (var (workflow, limit) in plan.Limited)
            {
                var room = request.MaxRuns - claimed.Count;
                if (room <= 0)
                {
                    break;
                }
                // Claimers of one limited workflow take turns (a transaction-scoped advisory lock), so two workers
                // counting at once cannot both fill the last slot.
                var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await using var transactionScope = transaction.ConfigureAwait(false);
                using (var turn = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext(@key));", connection, transaction))
                {
                    Add(turn, "key", NpgsqlDbType.Text, $"keel.limit.{_options.Schema}.{workflow}");
                    await turn.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                long held;
                using (var count = new NpgsqlCommand(HeldCountSql, connection, transaction))
                {
                    Add(count, "workflow", NpgsqlDbType.Text, workflow);
                    Add(count, "now", NpgsqlDbType.Bigint, Ms(request.Now));
                    held = (long)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
                }
                var budget = (int)Math.Min(room, limit - held);
                if (budget > 0)
                {
                    alone -= await ClaimAsync(connection, transaction, request, [workflow], budget, alone, lapsed, claimed, ct).ConfigureAwait(false);
                }
                await transaction.CommitAsync(ct).ConfigureAwait(false);
            }
            if (plan.Unlimited.Count > 0 && claimed.Count < request.MaxRuns)
            {
                await ClaimAsync(connection, null, request, [.. plan.Unlimited], request.MaxRuns - claimed.Count, alone, lapsed, claimed, ct).ConfigureAwait(false);
            }
            return [.. claimed.OrderByDescending(c => c.Run.Run.Priority).ThenBy(c => c.Due).Select(c => c.Run)];
        }, cancellationToken);
    }

    /// <summary>Claims up to <paramref name="limit"/> runs, of which up to <paramref name="alone"/> suspects; returns how many suspects it took.</summary>
    private static async Task<int> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ClaimRequest request, string[] workflows,
        int limit, int alone, bool lapsed, List<(ClaimedRun Run, long Due)> claimed, CancellationToken ct)
    {
        using var claim = new NpgsqlCommand(ClaimSql, connection, transaction);
        Add(claim, "owner", NpgsqlDbType.Text, request.Owner);
        Add(claim, "expires", NpgsqlDbType.Bigint, Ms(request.LeaseExpiresAt));
        Add(claim, "now", NpgsqlDbType.Bigint, Ms(request.Now));
        Add(claim, "workflows", NpgsqlDbType.Array | NpgsqlDbType.Text, workflows);
        Add(claim, "limit", NpgsqlDbType.Integer, limit);
        Add(claim, "alone", NpgsqlDbType.Integer, Math.Max(0, Math.Min(alone, limit)));
        Add(claim, "lapsed", NpgsqlDbType.Boolean, lapsed);
        var taken = 0;
        var reader = await claim.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var run = ReadRun(reader);
                claimed.Add((new ClaimedRun
                {
                    Run = run, Lease = new RunLease(run.RunId, request.Owner, reader.GetInt64(RunColumnCount)), JournalLength = reader.GetInt64(RunColumnCount + 2),
                    Alone = reader.GetInt16(RunColumnCount + 3) != 0, RecoveryPoint = NullableString(reader, RunColumnCount + 4),
                }, reader.GetInt64(RunColumnCount + 1)));
                taken += claimed[^1].Run.Alone ? 1 : 0;
            }
        }
        return taken;
    }

    /// <inheritdoc />
    public Task<LeaseRenewal> RenewLeasesAsync(string owner, IReadOnlyCollection<RunLease> leases, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(leases);
        var epochs = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var lease in leases)
        {
            epochs[lease.RunId] = lease.Epoch;
        }
        return UseAsync(async (connection, ct) =>
        {
            // Renews what the owner still holds and reports it; everything not returned (or at another epoch) is lost.
            using var renew = new NpgsqlCommand(
                // Lock in run id order, as the append batches do, so the two never deadlock.
                "UPDATE runs SET lease_expires_at = @expires " +
                "FROM (SELECT run_id AS lock_id FROM runs WHERE owner = @owner AND run_id = ANY(@ids) ORDER BY run_id FOR UPDATE) AS locked " +
                "WHERE runs.run_id = locked.lock_id " +
                "RETURNING runs.run_id, runs.lease_epoch, runs.cancel_requested, runs.pause_requested, " +
                "EXISTS (SELECT 1 FROM signals s WHERE s.run_id = runs.run_id);", connection);
            Add(renew, "expires", NpgsqlDbType.Bigint, Ms(expiresAt));
            Add(renew, "owner", NpgsqlDbType.Text, owner);
            Add(renew, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, epochs.Keys.ToArray());
            var lost = new HashSet<string>(epochs.Keys, StringComparer.Ordinal);
            var cancel = new List<string>();
            var pause = new List<string>();
            var signalled = new List<string>();
            var reader = await renew.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var runId = reader.GetString(0);
                    if (reader.GetInt64(1) == epochs[runId])
                    {
                        lost.Remove(runId);
                        if (reader.GetBoolean(2))
                        {
                            cancel.Add(runId);
                        }
                        if (reader.GetBoolean(3))
                        {
                            pause.Add(runId);
                        }
                        if (reader.GetBoolean(4))
                        {
                            signalled.Add(runId);
                        }
                    }
                }
            }
            return new LeaseRenewal([.. lost], cancel, pause, signalled);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> GetLeaseOwnersAsync(CancellationToken cancellationToken = default) =>
        UseAsync<IReadOnlyList<string>>(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand("SELECT DISTINCT owner FROM runs WHERE owner IS NOT NULL;", connection);
            var owners = new List<string>();
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                owners.Add(reader.GetString(0));
            }
            return owners;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> ExpireLeasesAsync(IReadOnlyCollection<string> owners, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        return UseAsync(async (connection, ct) =>
        {
            using var command = new NpgsqlCommand("UPDATE runs SET lease_expires_at = 0 WHERE owner = ANY(@owners);", connection);
            Add(command, "owners", NpgsqlDbType.Array | NpgsqlDbType.Text, owners.ToArray());
            var expired = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            Interlocked.Exchange(ref _nextLapsedCheckMs, 0); // the next claim here takes them
            return expired;
        }, cancellationToken);
    }
}
