using Keel.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>
    /// Stores runs in PostgreSQL, with the connection string from configuration (<c>ConnectionStrings:Keel</c>) or,
    /// when that is not set, from the environment variable <c>KEEL_POSTGRES</c>; the section <c>Keel:Postgres</c> sets
    /// any of <see cref="PostgresStoreOptions"/>' other properties (<c>{"Keel": {"Postgres": {"Schema": "orders"}}}</c>),
    /// then <paramref name="configure"/> runs.
    /// </summary>
    /// <param name="builder">The Keel builder.</param>
    /// <param name="configure">Changes the schema name and other options; optional.</param>
    /// <returns>The builder.</returns>
    public static KeelBuilder UsePostgres(this KeelBuilder builder, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseStore(services =>
        {
            var configuration = services.GetService<IConfiguration>();
            var connectionString = configuration?.GetConnectionString("Keel") is { Length: > 0 } configured
                ? configured
                : Environment.GetEnvironmentVariable("KEEL_POSTGRES") is { Length: > 0 } fromEnvironment
                    ? fromEnvironment
                    : throw new InvalidOperationException(
                        "Keel's PostgreSQL store has no connection string: set ConnectionStrings:Keel in configuration or the " +
                        "KEEL_POSTGRES environment variable, or pass one to UsePostgres(connectionString).");
            var options = new PostgresStoreOptions { ConnectionString = connectionString };
            if (configuration?.GetSection("Keel:Postgres") is { } section)
            {
                try
                {
                    section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
                }
                catch (InvalidOperationException ex)
                {
                    throw new InvalidOperationException($"The configuration section 'Keel:Postgres' does not fit Keel's PostgreSQL store options: {ex.Message}", ex);
                }
            }
            configure?.Invoke(options);
            return new PostgresWorkflowStore(options);
        });
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
