using System.Globalization;
using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, durable commits by default, and a single writer that batches the
/// appends of all concurrent runs into one transaction (group commit). Several processes may share the file.
/// </summary>
public sealed partial class SqliteWorkflowStore : IWorkflowStore
{
    // A plain append writes only its journal rows (one page per commit instead of two: the run row is not rewritten),
    // so a run's last change is the later of its row's and its last journal entry's time, and its journal length is read
    // from the journal itself.
    internal const string LastChangeSql =
        "max(updated_at, coalesce((SELECT recorded_at FROM journal WHERE journal.run_id = runs.run_id ORDER BY idx DESC LIMIT 1), 0))";

    internal const string JournalLengthSql = "(SELECT coalesce(max(idx) + 1, 0) FROM journal WHERE journal.run_id = runs.run_id)";

    // What reads of runs return: the columns, and for a waiting parent the child that cannot go on by itself, if any.
    private const string ReadColumns = RunColumns + ", CASE WHEN status = 'Waiting' THEN (SELECT json_array(c.run_id, c.status, c.status_reason) " +
        "FROM runs c WHERE c.parent_run_id = runs.run_id AND c.status IN ('Blocked', 'NeedsAttention') ORDER BY c.created_at LIMIT 1) END";

    private const string RunColumns = "run_id, workflow, status, input, result, error, status_reason, priority, created_at, " + LastChangeSql + ", completed_at, owner, recovery_attempts, cancel_requested, custom_status, pause_requested, parent_run_id, parent_seq, continued_as, build_id, input_tokens, output_tokens, total_tokens, model_calls, trace_parent";

    /// <summary>How many columns <see cref="RunColumns"/> reads: what a query selects after them starts here.</summary>
    private const int RunColumnCount = 25;
    private readonly SqliteStoreOptions _options;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private readonly CancellationTokenSource _stopCheckpoints = new();

    // Idle connections with GetRunAsync's statement prepared (see ReadRunWithCachedStatement).
    private const int MaxIdleRunReaders = 8;
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteCommand> _getRunCommands = [];
    private SqliteWriter? _writer;
    private int _disposed;
    private Task? _checkpoints;

    /// <summary>Creates the store; nothing is opened until <see cref="InitializeAsync"/>.</summary>
    /// <param name="options">The file and durability.</param>
    public SqliteWorkflowStore(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Path);
        _options = options;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(options.Path),
            Mode = options.CreateIfMissing ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <summary>The schema version this Keel writes.</summary>
    public static int SchemaVersion => SqliteSchema.LatestVersion;

    /// <summary>The full path of the database file.</summary>
    public string FilePath => Path.GetFullPath(_options.Path);

    /// <summary>Transactions committed by this store's writer (group commits).</summary>
    public long Commits => _writer?.Commits ?? 0;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_writer is not null)
            {
                return;
            }
            // Read first, write only when needed: a file Keel must not change is refused untouched, and a current schema
            // is checked without waiting for another process's write lock.
            var found = ReadSchemaWithoutWriting();
            RefuseUnusableSchema(found);
            var connection = new SqliteConnection(_connectionString);
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                var migrate = found.Version != SqliteSchema.LatestVersion;
                if (migrate)
                {
                    RefuseForeignDatabase(connection);
                }
                Execute(connection, "PRAGMA journal_mode=WAL;");
                Execute(connection, $"PRAGMA synchronous={(_options.Durability == SqliteDurability.Full ? "FULL" : "NORMAL")};");
                if (migrate)
                {
                    Migrate(connection);
                }
                // Checkpoints run beside the writer (CheckpointLoopAsync), not inside one of its commits.
                Execute(connection, "PRAGMA wal_autocheckpoint=0;");
                // A burst can grow the WAL far; SQLite cuts it back to this when it next starts over from the beginning.
                Execute(connection, "PRAGMA journal_size_limit=67108864;");
            }
            catch (SqliteException ex)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw Translate(ex);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _writer = new SqliteWriter(connection, _options.MaxBatchSize, Translate);
            _checkpoints = Task.Run(CheckpointLoopAsync, CancellationToken.None);
        }
        finally
        {
            _initLock.Release();
        }
    }

    // Checked again on the writing connection before a migration: another application may have taken the file since.
    private void RefuseForeignDatabase(SqliteConnection connection)
    {
        using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'), " +
                            "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'keel_meta');";
        using var reader = probe.ExecuteReader();
        reader.Read();
        if (reader.GetInt64(0) > 0 && reader.GetInt64(1) == 0)
        {
            throw ForeignDatabase();
        }
    }

    private void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, "CREATE TABLE IF NOT EXISTS keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);", transaction);
        var current = 0;
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT value FROM keel_meta WHERE key = 'schema_version';";
            if (read.ExecuteScalar() is string text)
            {
                current = int.Parse(text, CultureInfo.InvariantCulture);
            }
        }
        if (current > SqliteSchema.LatestVersion)
        {
            throw NewerSchema(current);
        }
        if (current < SqliteSchema.LatestVersion)
        {
            // Another process may have migrated since the read-only check: then there is nothing left to do.
            for (var version = current + 1; version <= SqliteSchema.LatestVersion; version++)
            {
                Execute(connection, SqliteSchema.Migrations[version - 1], transaction);
            }
            Execute(connection, $"INSERT INTO keel_meta (key, value) VALUES ('schema_version', '{SqliteSchema.LatestVersion}') " +
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value;", transaction);
        }
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteWriter Writer => _writer ?? throw new InvalidOperationException("Call InitializeAsync before using the store.");

    private async Task<T> WriteAsync<T>(Func<WriteContext, T> write, CancellationToken cancellationToken)
    {
        if (_writer is null)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        return await Writer.ExecuteAsync(write, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        if (_writer is null)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return read(connection);
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
    }

    private StorageException Translate(SqliteException ex) => ex.SqliteErrorCode switch
    {
        26 or 11 => new StorageException(
            $"'{FilePath}' is not a Keel database or is corrupted (SQLite: {ex.Message}). Nothing was changed. " +
            "Restore it from a backup, or use another file.", false, ex),
        5 or 6 => new StorageException(
            $"The database '{FilePath}' is locked by another process and stayed locked for {_options.BusyTimeout.TotalSeconds:0} s " +
            $"(SQLite: {ex.Message}). Try again when it is free.", true, ex),
        14 => new StorageException(File.Exists(FilePath)
            ? $"The database '{FilePath}' cannot be opened (SQLite: {ex.Message}). Check its permissions."
            : $"There is no Keel database at '{FilePath}'. Check the path.", false, ex),
        13 => new StorageException($"The disk holding '{FilePath}' is full (SQLite: {ex.Message}). Nothing after the last commit was written.", true, ex),
        8 => new StorageException($"The database '{FilePath}' is read-only (SQLite: {ex.Message}). Check its permissions.", false, ex),
        18 => new StorageException($"SQLite refused a value as too large for '{FilePath}' (SQLite: {ex.Message}).", false, ex) { RejectsData = true },
        _ => new StorageException($"SQLite failed on '{FilePath}': {ex.Message}", false, ex),
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return; // a host and its creator may both dispose the store
        }
        await _stopCheckpoints.CancelAsync().ConfigureAwait(false);
        if (_checkpoints is not null)
        {
            await _checkpoints.ConfigureAwait(false);
        }
        _stopCheckpoints.Dispose();
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            _writer = null;
        }
        _initLock.Dispose();
        CloseRunReaders();
        using var pooled = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(pooled);
    }

    /// <summary>
    /// Moves committed WAL frames into the database file from a connection of its own, so a commit never pays for a
    /// checkpoint (which made the slowest commits ten times slower). PASSIVE never blocks the writer or readers. The
    /// writer then copies the few frames committed meanwhile itself (<see cref="SqliteWriter.RequestCatchUp"/>).
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        var checkpointed = 0L;
        while (!_stopCheckpoints.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, _stopCheckpoints.Token).ConfigureAwait(false);
                var commits = Commits;
                if (commits == checkpointed)
                {
                    continue;
                }
                using var connection = new SqliteConnection(_connectionString);
                await connection.OpenAsync(_stopCheckpoints.Token).ConfigureAwait(false);
                Execute(connection, "PRAGMA wal_checkpoint(PASSIVE);");
                checkpointed = commits;
                _writer?.RequestCatchUp();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SqliteException)
            {
                // Busy or locked by another process: the next round tries again.
            }
        }
    }

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static DateTimeOffset? FromMs(SqliteDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));

    private static DateTimeOffset AtMs(SqliteDataReader r, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));

    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? ToJson(ErrorInfo? error) => error is null ? null : StoreJson.Serialize(error);

    private static ErrorInfo? ErrorFromJson(SqliteDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : StoreJson.ReadError(r.GetString(ordinal));

    private static RunInfo ReadRun(SqliteDataReader r, bool withStuckChild = false) => new()
    {
        RunId = r.GetString(0),
        WorkflowName = r.GetString(1),
        Status = Enum.Parse<RunStatus>(r.GetString(2)),
        Input = r.IsDBNull(3) ? null : r.GetString(3),
        Result = r.IsDBNull(4) ? null : r.GetString(4),
        Error = ErrorFromJson(r, 5),
        StatusReason = r.IsDBNull(6) ? null : r.GetString(6),
        Priority = r.GetInt32(7),
        CreatedAt = AtMs(r, 8),
        UpdatedAt = AtMs(r, 9),
        CompletedAt = FromMs(r, 10),
        Owner = r.IsDBNull(11) ? null : r.GetString(11),
        RecoveryAttempts = r.GetInt32(12),
        CancelRequested = r.GetInt64(13) != 0,
        CustomStatus = r.IsDBNull(14) ? null : StoreJson.ReadCustomStatus(r.GetString(14)),
        PauseRequested = r.GetInt64(15) != 0,
        ParentRunId = r.IsDBNull(16) ? null : r.GetString(16),
        ParentSequence = r.IsDBNull(17) ? null : r.GetInt32(17),
        ContinuedAsRunId = r.IsDBNull(18) ? null : r.GetString(18),
        BuildId = r.IsDBNull(19) ? null : r.GetString(19),
        Tokens = r.GetInt64(23) == 0 ? null : new TokenTotals(r.GetInt64(20), r.GetInt64(21), r.GetInt64(22), r.GetInt64(23)),
        TraceParent = r.IsDBNull(24) ? null : r.GetString(24),
        StuckChild = withStuckChild && !r.IsDBNull(RunColumnCount) ? StoreJson.ReadStuckChild(r.GetString(RunColumnCount)) : null,
    };
}
