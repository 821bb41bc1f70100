using Keel.Sqlite;

namespace Keel;

/// <summary>Chooses the SQLite store.</summary>
public static class SqliteKeelBuilderExtensions
{
    /// <summary>Stores runs in one SQLite file (created when missing), with durable commits by default.</summary>
    /// <param name="builder">The Keel builder.</param>
    /// <param name="path">The database file.</param>
    /// <param name="configure">Changes durability and batching; optional.</param>
    /// <returns>The builder.</returns>
    public static KeelBuilder UseSqlite(this KeelBuilder builder, string path, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var options = new SqliteStoreOptions { Path = path };
        configure?.Invoke(options);
        return builder.UseStore(_ => new SqliteWorkflowStore(options));
    }
}
