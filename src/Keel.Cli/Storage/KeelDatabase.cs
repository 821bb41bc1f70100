using Keel.Postgres;
using Keel.Sqlite;
using Keel.Storage;

namespace Keel.Cli.Storage;

/// <summary>Opens the SQLite store the way each command needs it.</summary>
internal static class KeelDatabase
{
    /// <summary>
    /// Opens a database that must already exist (every command but migrate, demo and worker): never creates the file or
    /// changes its schema. A file that is empty, corrupted, belongs to another application or has an older or newer
    /// schema is refused by the store, untouched.
    /// </summary>
    public static async Task<IWorkflowStore> OpenExistingAsync(string path, string? postgres, CancellationToken cancellationToken, bool migrate = false)
    {
        if (postgres is not null)
        {
            // Inspection never changes the schema; `keel migrate` does.
            return await InitializeAsync(new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = postgres, MigrateOnStart = migrate }), cancellationToken);
        }
        return await OpenExistingAsync(path, cancellationToken);
    }

    /// <summary>Opens an existing SQLite database (see the overload with a PostgreSQL connection string).</summary>
    public static Task<SqliteWorkflowStore> OpenExistingAsync(string path, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new CliException($"no Keel database at {fullPath} (give the file with --db PATH; `keel demo` creates one)", ExitCodes.NotFound);
        }
        return OpenAsync(fullPath, createIfMissing: false, cancellationToken);
    }

    /// <summary>Opens a database, creating the file and its schema when missing (worker, demo).</summary>
    public static Task<SqliteWorkflowStore> OpenOrCreateAsync(string path, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        return OpenAsync(fullPath, createIfMissing: true, cancellationToken);
    }

    /// <remarks>Only a store that may create the file may also create or upgrade its schema: the others refuse anything
    /// but a current Keel database, and leave it as it was.</remarks>
    private static Task<SqliteWorkflowStore> OpenAsync(string fullPath, bool createIfMissing, CancellationToken cancellationToken) =>
        InitializeAsync(new SqliteWorkflowStore(new SqliteStoreOptions
        {
            Path = fullPath, CreateIfMissing = createIfMissing, MigrateOnStart = createIfMissing,
        }), cancellationToken);

    /// <summary>Opens the store's schema; a store that fails to open is disposed, not leaked.</summary>
    private static async Task<T> InitializeAsync<T>(T store, CancellationToken cancellationToken) where T : IWorkflowStore
    {
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
}
