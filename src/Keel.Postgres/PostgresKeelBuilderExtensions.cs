using Keel.Postgres;

namespace Keel;

/// <summary>Chooses the PostgreSQL store.</summary>
public static class PostgresKeelBuilderExtensions
{
    /// <summary>
    /// Stores runs in PostgreSQL, in the schema <c>keel</c> unless configured otherwise (created and migrated at start).
    /// Many worker processes, on many machines, may share one database.
    /// </summary>
    /// <param name="builder">The Keel builder.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="configure">Changes the schema name; optional.</param>
    /// <returns>The builder.</returns>
    public static KeelBuilder UsePostgres(this KeelBuilder builder, string connectionString, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new PostgresStoreOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        return builder.UseKeelPostgres(options);
    }

    /// <summary>Stores runs in PostgreSQL with the given options.</summary>
    /// <param name="builder">The Keel builder.</param>
    /// <param name="options">The connection string and schema.</param>
    /// <returns>The builder.</returns>
    public static KeelBuilder UseKeelPostgres(this KeelBuilder builder, PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.UseStore(_ => new PostgresWorkflowStore(options));
    }
}
