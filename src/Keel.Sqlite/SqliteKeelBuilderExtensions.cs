using Keel.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>
    /// Stores runs in one SQLite file set in the app's configuration section <c>Keel:Sqlite</c> (<c>Path</c>, and any of
    /// <see cref="SqliteStoreOptions"/>' other properties: <c>{"Keel": {"Sqlite": {"Path": "keel.db", "Durability": "Normal"}}}</c>).
    /// </summary>
    /// <param name="builder">The Keel builder.</param>
    /// <returns>The builder.</returns>
    public static KeelBuilder UseSqlite(this KeelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseStore(services =>
        {
            var section = (services.GetService<IConfiguration>() ?? throw NoPath()).GetSection("Keel:Sqlite");
            var options = new SqliteStoreOptions { Path = section["Path"] is { Length: > 0 } path ? path : throw NoPath() };
            try
            {
                section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"The configuration section 'Keel:Sqlite' does not fit Keel's SQLite store options: {ex.Message}", ex);
            }
            return new SqliteWorkflowStore(options);
        });

        static InvalidOperationException NoPath() =>
            new("Keel's SQLite store has no file: set Keel:Sqlite:Path in configuration, or pass one to UseSqlite(path).");
    }
}
