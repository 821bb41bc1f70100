using Microsoft.Data.Sqlite;
using Keel.Storage;

namespace Keel.Sqlite;

public sealed partial class SqliteWorkflowStore
{
    /// <inheritdoc />
    public Task PutMessagesAsync(string runId, IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        StoredMessage.Validate(messages, nameof(messages));
        if (messages.Count == 0)
        {
            return Task.CompletedTask;
        }
        // Message and link in one transaction (the writer's): a message never exists without a run that refers to it.
        return WriteAsync(w =>
        {
            InsertMessages(w, runId, messages);
            return true;
        }, cancellationToken);
    }

    /// <summary>Stores messages and links them to the run, in the writer's transaction (a put's or an append's).</summary>
    private static void InsertMessages(WriteContext w, string runId, IReadOnlyList<StoredMessage>? messages)
    {
        foreach (var message in messages ?? [])
        {
            w.Statement("INSERT OR IGNORE INTO messages (hash, body) VALUES (?1, ?2);").Bind(1, message.Hash).Bind(2, message.Json).ExecuteNonQuery();
            w.Statement("INSERT OR IGNORE INTO run_messages (run_id, hash) VALUES (?1, ?2);").Bind(1, runId).Bind(2, message.Hash).ExecuteNonQuery();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> GetMessagesAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count == 0)
        {
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(StringComparer.Ordinal));
        }
        return ReadAsync<IReadOnlyDictionary<string, string>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT hash, body FROM messages WHERE hash IN (SELECT value FROM json_each($hashes));";
            command.Parameters.AddWithValue("$hashes", StoreJson.Serialize(hashes.ToList()));
            return ReadMessages(command);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, string>> GetRunMessagesAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return ReadAsync<IReadOnlyDictionary<string, string>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT m.hash, m.body FROM run_messages l JOIN messages m ON m.hash = l.hash WHERE l.run_id = $run;";
            command.Parameters.AddWithValue("$run", runId);
            return ReadMessages(command);
        }, cancellationToken);
    }

    /// <summary>The (hash, body) rows a query selects, by hash.</summary>
    private static Dictionary<string, string> ReadMessages(SqliteCommand command)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            found[r.GetString(0)] = r.GetString(1);
        }
        return found;
    }
}
