namespace Keel.Sqlite;

/// <summary>Settings of the SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file. Created when missing.</summary>
    public required string Path { get; set; }

    /// <summary>Full (default): a committed step survives power loss. Normal: it survives a process crash only.</summary>
    public SqliteDurability Durability { get; set; } = SqliteDurability.Full;

    /// <summary>Appends batched into one transaction at most (group commit).</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Create the file when it is missing (default). When false, a missing file is an error: tools that only
    /// inspect use this so a mistyped path does not leave an empty database behind.</summary>
    public bool CreateIfMissing { get; set; } = true;

    /// <summary>How long a call waits for another process's write lock before it fails as transient.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>How durable a commit is.</summary>
public enum SqliteDurability
{
    /// <summary><c>synchronous=FULL</c>: every commit is fsynced; survives power loss.</summary>
    Full,

    /// <summary><c>synchronous=NORMAL</c>: survives a process crash; the last commits may be lost on power loss.</summary>
    Normal,
}
