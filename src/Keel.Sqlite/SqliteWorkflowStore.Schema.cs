using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Keel.Sqlite;

public sealed partial class SqliteWorkflowStore
{
    /// <summary>What a file holds, as read before anything is written.</summary>
    /// <param name="Exists">The file exists.</param>
    /// <param name="Foreign">It has tables, none of them Keel's.</param>
    /// <param name="Version">Keel's schema version in it; 0 when it has no Keel schema.</param>
    private readonly record struct FoundSchema(bool Exists, bool Foreign, int Version);

    /// <summary>
    /// Reads the schema version without writing anything: no WAL switch, no migration, no lock that waits for a writer,
    /// and no <c>-wal</c> or <c>-shm</c> file left beside a file that had none.
    /// </summary>
    private FoundSchema ReadSchemaWithoutWriting()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return new FoundSchema(false, false, 0);
        }
        // A plain read-only connection to a WAL database creates -wal and -shm files and leaves them behind. A file with
        // none of its companions is read as immutable, which opens nothing else; one that has them (in use, or left by a
        // crash with committed pages in its WAL) is read through them, and they exist already.
        var companions = File.Exists(path + "-wal") || File.Exists(path + "-shm") || File.Exists(path + "-journal");
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = companions ? path : FileUri(path) + "?immutable=1",
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(_options.BusyTimeout.TotalSeconds),
        }.ToString();
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var tables = connection.CreateCommand();
            tables.CommandText = "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'), " +
                                 "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'keel_meta');";
            long tableCount, keelMeta;
            using (var reader = tables.ExecuteReader())
            {
                reader.Read();
                tableCount = reader.GetInt64(0);
                keelMeta = reader.GetInt64(1);
            }
            if (keelMeta == 0)
            {
                return new FoundSchema(true, tableCount > 0, 0);
            }
            using var version = connection.CreateCommand();
            version.CommandText = "SELECT value FROM keel_meta WHERE key = 'schema_version';";
            return version.ExecuteScalar() is string text
                ? new FoundSchema(true, false, int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                    ? number
                    : throw new StorageException($"'{path}' has an unreadable Keel schema version ('{text}'). Nothing was changed. " +
                                                 "Restore it from a backup, or use another file."))
                : new FoundSchema(true, false, 0);
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Refuses, before anything is written, a file this store may not use as it is.</summary>
    private void RefuseUnusableSchema(FoundSchema found)
    {
        var latest = SqliteSchema.LatestVersion;
        if (!found.Exists && (!_options.CreateIfMissing || !_options.MigrateOnStart))
        {
            throw new StorageException($"There is no Keel database at '{FilePath}'. Check the path.");
        }
        if (found.Foreign)
        {
            throw ForeignDatabase();
        }
        if (found.Version > latest)
        {
            throw NewerSchema(found.Version);
        }
        if (found.Version == latest || _options.MigrateOnStart)
        {
            return;
        }
        throw new StorageException(found.Version == 0
            ? $"'{FilePath}' is not a Keel database: it is empty (no Keel schema). Nothing was changed. Check the path; " +
              $"`keel migrate --db {FilePath}` creates Keel's schema in it."
            : $"The database '{FilePath}' has schema version {found.Version}, older than version {latest} that this Keel needs. " +
              $"Nothing was changed. Run `keel migrate --db {FilePath}` to upgrade it (back it up first).");
    }

    private StorageException ForeignDatabase() => new(
        $"'{FilePath}' is a SQLite database of another application (it has tables but no Keel schema). " +
        "Nothing was changed. Point Keel at its own file.");

    private StorageException NewerSchema(int version) => new(
        $"The database '{FilePath}' has schema version {version}, but this Keel knows versions up to {SqliteSchema.LatestVersion}: " +
        "it was written by a newer Keel. Upgrade Keel to open it. The database was not changed.");

    /// <summary>A <c>file:</c> URI for SQLite, every path segment percent-encoded (a '?' or '#' in a name stays a name).</summary>
    private static string FileUri(string fullPath) =>
        "file:" + string.Join('/', fullPath.Split('/').Select(Uri.EscapeDataString));
}
