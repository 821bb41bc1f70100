using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    // Messages first, links after, in one statement's transaction: while it is open it holds the table lock an insert takes
    // on messages, which a purge's lock waits for (see PurgeSql), so a purge never sees a message without this link.
    private const string PutMessagesSql =
        "WITH input AS (SELECT DISTINCT ON (hash) hash, body FROM unnest(@hashes, @bodies) AS m(hash, body)), " +
        "stored AS (INSERT INTO messages (hash, body) SELECT hash, body FROM input ORDER BY hash ON CONFLICT (hash) DO NOTHING) " +
        "INSERT INTO run_messages (run_id, hash) SELECT @run, hash FROM input ORDER BY hash ON CONFLICT DO NOTHING;";

    /// <inheritdoc />
    public Task PutMessagesAsync(string runId, IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            return Task.CompletedTask;
        }
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);
            ArgumentException.ThrowIfNullOrEmpty(message.Hash, nameof(messages));
            ArgumentNullException.ThrowIfNull(message.Json, nameof(messages));
        }
        return UseAsync(async (connection, ct) =>
        {
            using var put = new NpgsqlCommand(PutMessagesSql, connection);
            Add(put, "run", NpgsqlDbType.Text, runId);
            Add(put, "hashes", NpgsqlDbType.Array | NpgsqlDbType.Text, messages.Select(m => m.Hash).ToArray());
            Add(put, "bodies", NpgsqlDbType.Array | NpgsqlDbType.Text, messages.Select(m => m.Json).ToArray());
            return await put.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
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
            var found = new Dictionary<string, string>(StringComparer.Ordinal);
            var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    found[reader.GetString(0)] = reader.GetString(1);
                }
            }
            return found;
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
            var found = new Dictionary<string, string>(StringComparer.Ordinal);
            var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    found[reader.GetString(0)] = reader.GetString(1);
                }
            }
            return found;
        }, cancellationToken);
    }
}
