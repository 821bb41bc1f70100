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

    /// <summary>
    /// Create or upgrade Keel's schema at start-up (default). When false, the file must already hold this Keel's schema:
    /// a missing, empty or foreign file, or a schema older or newer than this Keel's, is refused with a
    /// <see cref="StorageException"/> before anything is written, and the file is left byte for byte as it was (no
    /// <c>-wal</c> or <c>-shm</c> file appears beside it). Tools that only inspect or operate on existing runs turn it
    /// off; <c>keel migrate</c> upgrades an older schema.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;

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
