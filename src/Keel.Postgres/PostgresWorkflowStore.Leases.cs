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
        "status = CASE WHEN status IN ('Pending', 'Waiting') THEN 'Running' ELSE status END " +
        "FROM (SELECT run_id AS claim_id FROM runs " +
        "  WHERE due_at IS NOT NULL AND due_at <= @now AND status IN ('Pending', 'Running', 'Waiting') " +
        "    AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now) " +
        "    AND workflow = ANY(@workflows) " +
        "  ORDER BY priority DESC, due_at LIMIT @limit FOR UPDATE SKIP LOCKED) AS claimable " +
        "WHERE run_id = claimable.claim_id " +
        "RETURNING " + RunColumns + ", lease_epoch, due_at;";

    /// <inheritdoc />
    public Task<IReadOnlyList<ClaimedRun>> ClaimRunsAsync(ClaimRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return UseAsync<IReadOnlyList<ClaimedRun>>(async (connection, ct) =>
        {
            using var claim = new NpgsqlCommand(ClaimSql, connection);
            Add(claim, "owner", NpgsqlDbType.Text, request.Owner);
            Add(claim, "expires", NpgsqlDbType.Bigint, Ms(request.LeaseExpiresAt));
            Add(claim, "now", NpgsqlDbType.Bigint, Ms(request.Now));
            Add(claim, "workflows", NpgsqlDbType.Array | NpgsqlDbType.Text, request.WorkflowNames.ToArray());
            Add(claim, "limit", NpgsqlDbType.Integer, request.MaxRuns);
            var claimed = new List<(ClaimedRun Run, long Due)>();
            var reader = await claim.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var run = ReadRun(reader);
                    claimed.Add((new ClaimedRun { Run = run, Lease = new RunLease(run.RunId, request.Owner, reader.GetInt64(16)) }, reader.GetInt64(17)));
                }
            }
            return [.. claimed.OrderByDescending(c => c.Run.Run.Priority).ThenBy(c => c.Due).Select(c => c.Run)];
        }, cancellationToken);
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
                "RETURNING runs.run_id, runs.lease_epoch, runs.cancel_requested, runs.pause_requested;", connection);
            Add(renew, "expires", NpgsqlDbType.Bigint, Ms(expiresAt));
            Add(renew, "owner", NpgsqlDbType.Text, owner);
            Add(renew, "ids", NpgsqlDbType.Array | NpgsqlDbType.Text, epochs.Keys.ToArray());
            var lost = new HashSet<string>(epochs.Keys, StringComparer.Ordinal);
            var cancel = new List<string>();
            var pause = new List<string>();
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
                    }
                }
            }
            return new LeaseRenewal([.. lost], cancel, pause);
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
