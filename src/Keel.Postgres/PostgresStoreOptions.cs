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

    /// <summary>
    /// Appends sent together at most (group commit): appends of concurrent runs that queue while one batch is at the
    /// server go in the next, as one round trip and one transaction. Run creations are grouped the same way, up to the
    /// same number. 1 sends each append and each creation on its own pooled connection.
    /// </summary>
    public int MaxAppendBatchSize { get; set; } = 256;

    /// <summary>
    /// Group-commit writers of appends, each with its own connection and one batch at the server at a time; a run's
    /// appends always go through the same one. More than one keeps the server busy while a batch's results travel
    /// back and the next one is built.
    /// </summary>
    public int AppendWriters { get; set; } = 2;

    /// <summary>
    /// Prepares the store's statements on each connection (Npgsql <c>Max Auto Prepare</c>, when the connection string
    /// does not set it): the server then skips parsing and planning them, which roughly halves the cost of batched
    /// appends. Turn off behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
    /// </summary>
    public bool AutoPrepare { get; set; } = true;

    /// <summary>
    /// Create the schema or apply missing migrations at start-up (default). Turn off where the application's database
    /// role may not change the schema, or for tools that only read: start-up then checks the version with plain reads
    /// and fails on a missing or outdated schema, changing nothing, and says to run <c>keel migrate</c>. A schema
    /// already at this Keel's version is never locked or altered, whatever this setting.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;
}
