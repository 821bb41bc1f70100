using System.Text;
using Keel.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keel.Cli.Storage;

/// <summary>Opens the SQLite store the way each command needs it.</summary>
internal static class KeelDatabase
{
    private static readonly byte[] SqliteHeader = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>
    /// Opens a database that must already exist and be a Keel database (inspection commands). It never creates the
    /// file, and a file that is not a Keel database is refused before the store touches it (the store would otherwise
    /// add its schema to any SQLite file).
    /// </summary>
    public static async Task<SqliteWorkflowStore> OpenExistingAsync(string path, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new CliException($"no Keel database at {fullPath} (give the file with --db PATH; `keel demo` creates one)");
        }
        EnsureKeelDatabase(fullPath);
        return await OpenAsync(fullPath, cancellationToken);
    }

    /// <summary>Opens a database, creating the file and its schema when missing (worker, demo).</summary>
    public static async Task<SqliteWorkflowStore> OpenOrCreateAsync(string path, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        if (File.Exists(fullPath) && new FileInfo(fullPath).Length > 0)
        {
            EnsureKeelDatabase(fullPath);
        }
        var directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        return await OpenAsync(fullPath, cancellationToken);
    }

    private static async Task<SqliteWorkflowStore> OpenAsync(string fullPath, CancellationToken cancellationToken)
    {
        var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = fullPath });
        try
        {
            await store.InitializeAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    private static void EnsureKeelDatabase(string fullPath)
    {
        var header = new byte[SqliteHeader.Length];
        int read;
        using (var file = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        if (read < header.Length || !header.AsSpan().SequenceEqual(SqliteHeader))
        {
            throw new CliException($"{fullPath} is not a Keel database (it is not a SQLite file, or it is corrupted); the file was not changed");
        }
        if (!HasKeelSchema(fullPath))
        {
            throw new CliException($"{fullPath} is a SQLite database but not a Keel database (it has no keel_meta table); the file was not changed");
        }
    }

    private static bool HasKeelSchema(string fullPath)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString();
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'keel_meta';";
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }
        catch (SqliteException ex)
        {
            throw new CliException($"{fullPath} is not a readable Keel database (SQLite: {ex.Message}); the file was not changed");
        }
    }
}
