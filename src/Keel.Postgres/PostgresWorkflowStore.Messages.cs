using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    // Messages first, links after, in one statement's transaction: while it is open it holds the table lock an insert takes
    // on messages, which a purge's lock waits for (see PurgeSql), so a purge never sees a message without this link. In
    // hash order, so two writers that store the same messages wait for each other in one order (no deadlock).
    private const string PutMessagesSql =
        "WITH input AS (SELECT run_id, hash, body FROM unnest(@runs, @hashes, @bodies) AS m(run_id, hash, body)), " +
        "stored AS (INSERT INTO messages (hash, body) SELECT DISTINCT ON (hash) hash, body FROM input ORDER BY hash ON CONFLICT (hash) DO NOTHING) " +
        "INSERT INTO run_messages (run_id, hash) SELECT DISTINCT run_id, hash FROM input ORDER BY hash, run_id ON CONFLICT DO NOTHING;";

    /// <inheritdoc />
    public Task PutMessagesAsync(string runId, IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        StoredMessage.Validate(messages, nameof(messages));
        if (messages.Count == 0)
        {
            return Task.CompletedTask;
        }
        return UseAsync(async (connection, ct) =>
        {
            using var put = new NpgsqlBatch(connection) { BatchCommands = { PutMessagesCommand(runId, messages) } };
            return await put.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Stores messages, each linked to its run: a put's statement, or one that rides an append's transaction.</summary>
    private static NpgsqlBatchCommand PutMessagesCommand(IReadOnlyList<(string RunId, StoredMessage Message)> messages)
    {
        var put = new NpgsqlBatchCommand(PutMessagesSql);
        Add(put.Parameters, "runs", NpgsqlDbType.Array | NpgsqlDbType.Text, messages.Select(m => m.RunId).ToArray());
        Add(put.Parameters, "hashes", NpgsqlDbType.Array | NpgsqlDbType.Text, messages.Select(m => m.Message.Hash).ToArray());
        Add(put.Parameters, "bodies", NpgsqlDbType.Array | NpgsqlDbType.Text, messages.Select(m => m.Message.Json).ToArray());
        return put;
    }

    /// <summary>Stores messages, all linked to one run.</summary>
    private static NpgsqlBatchCommand PutMessagesCommand(string runId, IReadOnlyList<StoredMessage> messages) =>
        PutMessagesCommand([.. messages.Select(m => (runId, m))]);

    /// <summary>The messages a batch of appends stores (<see cref="RunUpdate.Messages"/>), as one statement; null for none
    /// (most batches: nothing is allocated for them).</summary>
    private static NpgsqlBatchCommand? PutMessagesCommand(IReadOnlyList<PostgresAppend> appends)
    {
        List<(string RunId, StoredMessage Message)>? messages = null;
        for (var i = 0; i < appends.Count; i++)
        {
            if (appends[i].Messages is { } stored)
            {
                (messages ??= []).AddRange(stored.Select(m => (appends[i].Lease.RunId, m)));
            }
        }
        return messages is null ? null : PutMessagesCommand(messages);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> GetMessagesAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count == 0)
        {
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(StringComparer.Ordinal));
        }
        return UseAsync<IReadOnlyDictionary<string, string>>(async (connection, ct) =>
        {
            using var select = new NpgsqlCommand("SELECT hash, body FROM messages WHERE hash = ANY(@hashes);", connection);
            Add(select, "hashes", NpgsqlDbType.Array | NpgsqlDbType.Text, hashes.ToArray());
            return await ReadMessagesAsync(select, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> GetRunMessagesAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return UseAsync<IReadOnlyDictionary<string, string>>(async (connection, ct) =>
        {
            using var select = new NpgsqlCommand("SELECT m.hash, m.body FROM run_messages l JOIN messages m ON m.hash = l.hash WHERE l.run_id = @run;", connection);
            Add(select, "run", NpgsqlDbType.Text, runId);
            return await ReadMessagesAsync(select, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>The (hash, body) rows a query selects, by hash.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> ReadMessagesAsync(NpgsqlCommand select, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found[reader.GetString(0)] = reader.GetString(1);
            }
        }
        return found;
    }
}
