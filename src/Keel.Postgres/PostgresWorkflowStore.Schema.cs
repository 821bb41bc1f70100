using System.Globalization;
using Npgsql;

namespace Keel.Postgres;

public sealed partial class PostgresWorkflowStore
{
    /// <summary>
    /// Keel's schema version, read with plain queries (no lock, no DDL: a read-only role or a standby can run them);
    /// null when the schema or its version table does not exist.
    /// </summary>
    private async Task<int?> ReadSchemaVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // The schema name is validated in the constructor (lower-case letters, digits, underscores).
        using (var exists = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL;", connection))
        {
            exists.Parameters.AddWithValue("table", _options.Schema + ".schema_version");
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return null;
            }
        }
        using var read = new NpgsqlCommand($"SELECT COALESCE(max(version), 0) FROM {_options.Schema}.schema_version;", connection);
        return Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Refuses a schema this store may not use or change (it is newer, or migrations at start-up are off).</summary>
    private void RefuseUnusableSchema(int? found)
    {
        if (found is { } version && version > PostgresSchema.LatestVersion)
        {
            throw NewerSchema(version);
        }
        if (_options.MigrateOnStart)
        {
            return;
        }
        throw new StorageException(found is null
            ? $"There is no Keel schema '{_options.Schema}' at {_where}. Nothing was changed. Check the connection string; " +
              "`keel migrate --postgres CONNSTR` creates the schema."
            : $"The Keel schema '{_options.Schema}' ({_where}) is at version {found} and this Keel needs {PostgresSchema.LatestVersion}. " +
              "Nothing was changed. Run `keel migrate --postgres CONNSTR` with a role that may change the schema.");
    }

    private StorageException NewerSchema(int version) => new(
        $"The Keel schema '{_options.Schema}' ({_where}) has schema version {version}, but this Keel knows versions up to " +
        $"{PostgresSchema.LatestVersion}: it was written by a newer Keel. Upgrade Keel to use it. The database was not changed.");
}
