namespace Keel.Postgres;

/// <summary>Settings of the PostgreSQL store.</summary>
public sealed record PostgresStoreOptions
{
    /// <summary>An Npgsql connection string, for example <c>Host=db;Username=keel;Password=...;Database=app</c>.</summary>
    public required string ConnectionString { get; set; }

    /// <summary>
    /// The schema that holds Keel's tables (created when missing). Lower-case letters, digits and underscores,
    /// starting with a letter or underscore, at most 40 characters. Several Keel deployments can share a database
    /// under different schemas; they do not see each other's runs.
    /// </summary>
    public string Schema { get; set; } = "keel";
}
