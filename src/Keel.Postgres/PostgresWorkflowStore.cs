using System.Text.RegularExpressions;
using Keel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Postgres;

/// <summary>
/// The scale-out store: many worker processes on many machines share one PostgreSQL database. Runs are claimed with
/// <c>FOR UPDATE SKIP LOCKED</c>, held by leases with fencing epochs, and idle workers are woken by LISTEN/NOTIFY.
/// </summary>
/// <remarks>Thread-safe. Every call is one round trip on a pooled connection, except cancel requests and the
/// migration at <see cref="InitializeAsync"/>. Times are stored as Unix milliseconds.</remarks>
public sealed partial class PostgresWorkflowStore : IWorkflowStore, IStoreWakeup
{
    // What reads of runs return: the columns, and for a waiting parent the child that cannot go on by itself, if any.
    private const string ReadColumns = RunColumns + ", CASE WHEN status = 'Waiting' THEN (SELECT json_build_array(c.run_id, c.status, c.status_reason)::text " +
        "FROM runs c WHERE c.parent_run_id = runs.run_id AND c.status IN ('Blocked', 'NeedsAttention') ORDER BY c.created_at LIMIT 1) END";

    private const string RunColumns = "run_id, workflow, status, input, result, error, status_reason, priority, created_at, updated_at, completed_at, owner, recovery_attempts, cancel_requested, custom_status, pause_requested, parent_run_id, parent_seq, continued_as, build_id, input_tokens, output_tokens, total_tokens, model_calls, trace_parent";

    /// <summary>How many columns <see cref="RunColumns"/> reads: what a query selects after them starts here.</summary>
    private const int RunColumnCount = 25;
    private readonly PostgresStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _ownedSource;
    private readonly string _where;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private readonly PostgresListener _listener;
    private readonly PostgresGroupCommit<PostgresAppend, bool>[]? _appends;
    private readonly PostgresGroupCommit<NewRun, RunInfo?>? _creates;
    private readonly PostgresGroupCommit<NewSignal, SignalOutcome>? _signals;
    private volatile bool _initialized;

    /// <summary>Creates the store; nothing is opened until <see cref="InitializeAsync"/>.</summary>
    /// <param name="options">The connection string and schema.</param>
    public PostgresWorkflowStore(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ConnectionString);
        if (!SchemaName().IsMatch(options.Schema))
        {
            throw new ArgumentException(
                $"'{options.Schema}' is not a valid Keel schema name: use lower-case letters, digits and underscores, " +
                "starting with a letter or underscore, at most 40 characters.", nameof(options));
        }
        _options = options;
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        builder.ConnectionStringBuilder.SearchPath = options.Schema;
        builder.ConnectionStringBuilder.ApplicationName ??= "keel";
        if (options.AutoPrepare && builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        if (!SetsPoolSize(options.ConnectionString))
        {
            builder.ConnectionStringBuilder.MaxPoolSize = DefaultMaxPoolSize;
        }
        MaxPoolSize = builder.ConnectionStringBuilder.MaxPoolSize;
        _where = $"{builder.ConnectionStringBuilder.Host}:{builder.ConnectionStringBuilder.Port}/{builder.ConnectionStringBuilder.Database}, schema {options.Schema}";
        // The LISTEN connection and the group-commit writers' connections are never pooled: their session state
        // (LISTEN; the writers' plan setting) must not reach a pooled connection...
        _ownedSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false });
        // ...so the pool's connections need no reset when returned: the store leaves no session state on them (no SET,
        // cursors, temp tables or session locks; a transaction left open is still rolled back). The reset cost the
        // server ~100 us per call (a 7-command query before each connection's next use), as much as the call itself.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        _dataSource = builder.Build();
        _listener = new PostgresListener(_ownedSource, options.Schema + ".work");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAppendBatchSize, 1, nameof(options));
        if (options.MaxAppendBatchSize > 1)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(options.AppendWriters, 1, nameof(options));
            _appends = [.. Enumerable.Range(0, options.AppendWriters).Select(_ =>
                new PostgresGroupCommit<PostgresAppend, bool>(_ownedSource, options.MaxAppendBatchSize, ExecuteAppendsAsync, PrepareWriterAsync))];
            _creates = new(_ownedSource, options.MaxAppendBatchSize, InsertRunsAsync, PrepareWriterAsync);
            _signals = new(_ownedSource, options.MaxAppendBatchSize, InsertSignalsAsync, PrepareWriterAsync);
        }
    }

    /// <summary>
    /// The pool's size when the connection string does not set one (Npgsql's own default is 100, which is PostgreSQL's
    /// default <c>max_connections</c>: two busy workers could use up the server). A store also keeps up to five
    /// connections of its own (LISTEN and the group-commit writers: two of appends, one each of creates and signals, each
    /// opened at first use). A pool of 20 served W2 as fast as one of 100.
    /// </summary>
    internal const int DefaultMaxPoolSize = 20;

    /// <summary>The most pooled connections this store opens.</summary>
    internal int MaxPoolSize { get; }

    private static bool SetsPoolSize(string connectionString)
    {
        var raw = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return raw.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant() is "MAXPOOLSIZE" or "MAXIMUMPOOLSIZE");
    }

    /// <summary>
    /// A group-commit writer's connection plans every batch for its arrays (custom plans). Generic plans saved ≈ 0.8 ms
    /// of planning per append batch (W2 ≈ 5 % less CPU, with sequential scans turned off on these connections), but the
    /// batches that consume signals or release runs to wait for them ran slower with them: W5 on PostgreSQL took
    /// 9.2–12.8 s instead of 7.3–8.3 s. The statements stay prepared: parsing is still saved.
    /// </summary>
    private static async Task PrepareWriterAsync(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SET plan_cache_mode = force_custom_plan;", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Queues an item on a group-commit writer: it shares a round trip and a transaction with whatever else is queued.</summary>
    private async Task<TResult> GroupCommitAsync<TItem, TResult>(PostgresGroupCommit<TItem, TResult> writer, TItem item, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return await writer.EnqueueAsync(item).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Round trips that carried appends through the group-commit writer (for measurements).</summary>
    public long AppendBatches => _appends?.Sum(a => a.Batches) ?? 0;

    /// <summary>The schema version this Keel writes.</summary>
    public static int SchemaVersion => PostgresSchema.LatestVersion;

    /// <summary>The schema that holds the store's tables.</summary>
    public string Schema => _options.Schema;

    /// <inheritdoc />
    public Task WorkAvailable => _listener.WorkAvailable;

    /// <inheritdoc />
    public bool TryTakeSignalledRun(out string runId) => _listener.TryTakeSignalledRun(out runId);

    /// <inheritdoc />
    public bool WatchFinishedRuns(Action<string> onFinished)
    {
        _listener.WatchFinishedRuns(onFinished);
        return true;
    }

    /// <summary>Completes once the wake-up connection LISTENs (for tests).</summary>
    internal Task Listening => _listener.Listening.Task;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized)
        {
            return;
        }
        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return;
            }
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var connectionScope = connection.ConfigureAwait(false);
            // A plain read first: a current schema needs no lock and no DDL, and a store that may not migrate refuses
            // before it changes anything.
            var found = await ReadSchemaVersionAsync(connection, cancellationToken).ConfigureAwait(false);
            if (found != PostgresSchema.LatestVersion)
            {
                RefuseUnusableSchema(found);
                await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            _initialized = true;
        }
        catch (NpgsqlException ex)
        {
            throw Translate(ex);
        }
        finally
        {
            _initLock.Release();
        }
    }

    private async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);
        // Concurrent workers starting on a fresh database take turns here; the loser finds the schema migrated.
        using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext(@key));", connection))
        {
            lockCommand.Parameters.AddWithValue("key", "keel.migrate." + _options.Schema);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {_options.Schema};", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection,
            "CREATE TABLE IF NOT EXISTS schema_version (id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1), version integer NOT NULL);",
            cancellationToken).ConfigureAwait(false);
        int current;
        using (var read = new NpgsqlCommand("SELECT COALESCE(max(version), 0) FROM schema_version;", connection))
        {
            current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }
        if (current > PostgresSchema.LatestVersion)
        {
            // Disposing the transaction rolls it back: the database is left exactly as it was.
            throw NewerSchema(current);
        }
        for (var version = current + 1; version <= PostgresSchema.LatestVersion; version++)
        {
            await ExecuteAsync(connection, PostgresSchema.Migrations[version - 1], cancellationToken).ConfigureAwait(false);
        }
        if (current != PostgresSchema.LatestVersion)
        {
            using var write = new NpgsqlCommand(
                "INSERT INTO schema_version (id, version) VALUES (1, @v) ON CONFLICT (id) DO UPDATE SET version = excluded.version;", connection);
            write.Parameters.AddWithValue("v", PostgresSchema.LatestVersion);
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one call on a pooled connection, after the schema is ready, with errors mapped to <see cref="StorageException"/>.</summary>
    private async Task<T> UseAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var connectionScope = connection.ConfigureAwait(false);
            return await body(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw Translate(ex);
        }
    }

    private StorageException Translate(NpgsqlException ex) => ex switch
    {
        PostgresException { SqlState: "3D000" } => new StorageException(
            $"The PostgreSQL database of {_where} does not exist (PostgreSQL: {ex.Message}). Create it, or fix the connection string.", false, ex),
        PostgresException { SqlState: "28000" or "28P01" } => new StorageException(
            $"PostgreSQL refused the login for {_where} (PostgreSQL: {ex.Message}). Check the user and password in the connection string.", false, ex),
        PostgresException { SqlState: "42501" } => new StorageException(
            $"The PostgreSQL user lacks a privilege Keel needs on {_where} (PostgreSQL: {ex.Message}). Grant it, or use another user.", false, ex),
        // Data exceptions (22xxx: a NUL character, an encoding PostgreSQL cannot hold) and program limits (54xxx: a row
        // or an index entry too large): the same values will never be accepted.
        PostgresException { SqlState: ['2', '2', ..] or ['5', '4', ..] } pg => new StorageException(
            $"PostgreSQL refused a value on {_where} (PostgreSQL: {pg.Message}).", false, ex) { RejectsData = true },
        PostgresException pg => new StorageException($"PostgreSQL failed on {_where}: {pg.Message}", ex.IsTransient, ex),
        _ => new StorageException($"PostgreSQL at {_where} could not be reached or the connection broke: {ex.Message}", ex.IsTransient, ex),
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync().ConfigureAwait(false);
        foreach (var appends in _appends ?? [])
        {
            await appends.DisposeAsync().ConfigureAwait(false);
        }
        if (_creates is not null)
        {
            await _creates.DisposeAsync().ConfigureAwait(false);
        }
        if (_signals is not null)
        {
            await _signals.DisposeAsync().ConfigureAwait(false);
        }
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        await _ownedSource.DisposeAsync().ConfigureAwait(false);
        _initLock.Dispose();
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex SchemaName();

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static long? Ms(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

    private static DateTimeOffset? FromMs(NpgsqlDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));

    private static string? ToJson(ErrorInfo? error) => error is null ? null : StoreJson.Serialize(error);

    private static ErrorInfo? ErrorFromJson(NpgsqlDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : StoreJson.ReadError(r.GetString(ordinal));

    private static string? NullableString(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private static void Add<T>(NpgsqlCommand command, string name, NpgsqlDbType type, T value) => Add(command.Parameters, name, type, value);

    private static void Add<T>(NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, T value) =>
        parameters.Add(new NpgsqlParameter<T>(name, type) { TypedValue = value });

    private static RunInfo ReadRun(NpgsqlDataReader r, bool withStuckChild = false) => new()
    {
        RunId = r.GetString(0),
        WorkflowName = r.GetString(1),
        Status = Enum.Parse<RunStatus>(r.GetString(2)),
        Input = NullableString(r, 3),
        Result = NullableString(r, 4),
        Error = ErrorFromJson(r, 5),
        StatusReason = NullableString(r, 6),
        Priority = r.GetInt32(7),
        CreatedAt = FromMs(r, 8)!.Value,
        UpdatedAt = FromMs(r, 9)!.Value,
        CompletedAt = FromMs(r, 10),
        Owner = NullableString(r, 11),
        RecoveryAttempts = r.GetInt32(12),
        CancelRequested = r.GetBoolean(13),
        CustomStatus = r.IsDBNull(14) ? null : StoreJson.ReadCustomStatus(r.GetString(14)),
        PauseRequested = r.GetBoolean(15),
        ParentRunId = NullableString(r, 16),
        ParentSequence = r.IsDBNull(17) ? null : r.GetInt32(17),
        ContinuedAsRunId = NullableString(r, 18),
        BuildId = NullableString(r, 19),
        Tokens = r.GetInt64(23) == 0 ? null : new TokenTotals(r.GetInt64(20), r.GetInt64(21), r.GetInt64(22), r.GetInt64(23)),
        TraceParent = NullableString(r, 24),
        StuckChild = withStuckChild ? StoreJson.ReadStuckChild(NullableString(r, RunColumnCount)) : null,
    };
}
