using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    /// <summary>
    /// Locks up to @limit runnable rows, skipping rows another claimer has locked, and takes them. A row whose lease a
    /// concurrent claimer took between this statement's snapshot and its lock is re-checked on its newest version
    /// (READ COMMITTED), finds the lease valid, and is left out: no run is ever claimed twice.
    /// </summary>
    private const string ClaimSql =
        "UPDATE runs SET owner = @owner, lease_epoch = lease_epoch + 1, lease_expires_at = @expires, " +
        "recovery_attempts = recovery_attempts + 1, updated_at = @now, " +
        "status = CASE WHEN status IN ('Pending', 'Waiting', 'NeedsAttention') THEN 'Running' ELSE status END " +
        "FROM (SELECT run_id AS claim_id FROM runs " +
        "  WHERE due_at IS NOT NULL AND due_at <= @now AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention') " +
        "    AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now) " +
        "    AND workflow = ANY(@workflows) " +
        "  ORDER BY priority DESC, due_at LIMIT @limit FOR UPDATE SKIP LOCKED) AS claimable " +
        "WHERE run_id = claimable.claim_id " +
        "RETURNING " + RunColumns + ", lease_epoch, due_at, next_index;";

    // Runs of a workflow held by any worker now: what its concurrency limit counts.
    private const string HeldCountSql =
        "SELECT count(*) FROM runs WHERE workflow = @workflow AND owner IS NOT NULL AND lease_expires_at >= @now " +
        "AND status IN ('Pending', 'Running', 'Waiting', 'NeedsAttention');";

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = ClaimPlan.Create(request);
        return UseAsync<IReadOnlyList<ClaimedRun>>(async (connection, ct) =>
        {
            var claimed = new List<(ClaimedRun Run, long Due)>();
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
                if (limit - held > 0)
                {
                    await ClaimAsync(connection, transaction, request, [workflow], (int)Math.Min(room, limit - held), claimed, ct).ConfigureAwait(false);
                }
                await transaction.CommitAsync(ct).ConfigureAwait(false);
            }
            if (plan.Unlimited.Count > 0 && claimed.Count < request.MaxRuns)
            {
                await ClaimAsync(connection, null, request, [.. plan.Unlimited], request.MaxRuns - claimed.Count, claimed, ct).ConfigureAwait(false);
            }
            return [.. claimed.OrderByDescending(c => c.Run.Run.Priority).ThenBy(c => c.Due).Select(c => c.Run)];
        }, cancellationToken);
    }

    private static async Task ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ClaimRequest request, string[] workflows,
        int limit, List<(ClaimedRun Run, long Due)> claimed, CancellationToken ct)
    {
        using var claim = new NpgsqlCommand(ClaimSql, connection, transaction);
        Add(claim, "owner", NpgsqlDbType.Text, request.Owner);
        Add(claim, "expires", NpgsqlDbType.Bigint, Ms(request.LeaseExpiresAt));
        Add(claim, "now", NpgsqlDbType.Bigint, Ms(request.Now));
        Add(claim, "workflows", NpgsqlDbType.Array | NpgsqlDbType.Text, workflows);
        Add(claim, "limit", NpgsqlDbType.Integer, limit);
        var reader = await claim.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var run = ReadRun(reader);
                claimed.Add((new ClaimedRun { Run = run, Lease = new RunLease(run.RunId, request.Owner, reader.GetInt64(19)), JournalLength = reader.GetInt64(21) }, reader.GetInt64(20)));
            }
        }
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
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }
}
