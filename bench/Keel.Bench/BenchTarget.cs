using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using Keel.Postgres;
using Keel.Sqlite;
using Keel.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Keel.Bench;

/// <summary>
/// Where a bench run keeps its runs: a SQLite database file, or a fresh PostgreSQL schema (dropped at the end).
/// The SQL the bench itself runs (counts, the effects check) is the same on both: same table and column names.
/// </summary>
internal sealed class BenchTarget
{
    private BenchTarget(string store, string? db, string? connectionString, string? schema, SqliteDurability durability)
    {
        Store = store;
        Db = db;
        ConnectionString = connectionString;
        Schema = schema;
        Durability = durability;
    }

    public string Store { get; }

    public bool IsPostgres => Store == "postgres";

    /// <summary>SQLite database file (sqlite only).</summary>
    public string? Db { get; }

    /// <summary>Npgsql connection string without a search path (postgres only).</summary>
    public string? ConnectionString { get; }

    /// <summary>The bench run's own schema (postgres only).</summary>
    public string? Schema { get; }

    public SqliteDurability Durability { get; }

    /// <summary>The <c>durability</c> JSON field: Postgres runs with the server's settings (fsync on, synchronous_commit on).</summary>
    public string DurabilityLabel => IsPostgres ? "server-default" : Durability == SqliteDurability.Full ? "full" : "normal";

    public static BenchTarget Sqlite(string db, SqliteDurability durability) => new("sqlite", db, null, null, durability);

    public static BenchTarget Postgres(string connectionString, string schema) => new("postgres", null, connectionString, schema, SqliteDurability.Full);

    /// <summary>The target of a child process: from --db/--durability or --postgres/--schema.</summary>
    public static BenchTarget FromChildOptions(BenchOptions options) =>
        options.Store == "postgres"
            ? Postgres(options.Postgres ?? throw new ArgumentException("--postgres is required"), options.Schema ?? throw new ArgumentException("--schema is required"))
            : Sqlite(options.Db ?? throw new ArgumentException("--db is required"), options.Durability);

    /// <summary>The same target under another name (another database file or schema), e.g. for a scratch or floor measurement.</summary>
    public BenchTarget Sibling(string suffix) =>
        IsPostgres ? Postgres(ConnectionString!, Schema + "_" + suffix) : Sqlite(Path.ChangeExtension(Db!, null) + "-" + suffix + ".db", Durability);

    /// <summary>Arguments that give a child process this target.</summary>
    public IEnumerable<string> ChildArgs() =>
        IsPostgres
            ? ["--store", "postgres", "--postgres", ConnectionString!, "--schema", Schema!]
            : ["--store", "sqlite", "--db", Db!, "--durability", Durability == SqliteDurability.Full ? "full" : "normal"];

    /// <summary>The connection string from --postgres, else KEEL_POSTGRES, else KEEL_TEST_POSTGRES; null when none is set.</summary>
    public static string? ResolveConnectionString(BenchOptions options)
    {
        foreach (var candidate in new[] { options.Postgres, Environment.GetEnvironmentVariable("KEEL_POSTGRES"), Environment.GetEnvironmentVariable("KEEL_TEST_POSTGRES") })
        {
            if (!string.IsNullOrWhiteSpace(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public IWorkflowStore CreateStore() =>
        IsPostgres
            ? new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = ConnectionString!, Schema = Schema! })
            : new SqliteWorkflowStore(new SqliteStoreOptions { Path = Db!, Durability = Durability });

    /// <summary>
    /// Commits (SQLite: every write transaction of the store) or, on PostgreSQL, round trips of the group-commit
    /// append writer (each is one transaction: <see cref="PostgresWorkflowStore.AppendBatches"/>); PostgreSQL's
    /// creates and claims are not in this counter (the bench counts them through <see cref="TimingStore"/>).
    /// </summary>
    public static long Commits(IWorkflowStore store) => store switch
    {
        SqliteWorkflowStore s => s.Commits,
        PostgresWorkflowStore p => p.AppendBatches,
        TimingStore t => Commits(t.Inner),
        _ => 0,
    };

    /// <summary>A connection for the bench's own queries (not through the engine); Postgres with the schema on the search path.</summary>
    public DbConnection OpenRaw()
    {
        if (!IsPostgres)
        {
            return BenchUtil.OpenRaw(Db!);
        }
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = Schema, Pooling = false, ApplicationName = "keel-bench" };
        var connection = new NpgsqlConnection(builder.ToString());
        connection.Open();
        return connection;
    }

    public static long Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync().ConfigureAwait(false), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>PostgreSQL: deadlocks the server has detected in this database so far (pg_stat_database); null for SQLite.</summary>
    public long? Deadlocks()
    {
        if (!IsPostgres)
        {
            return null;
        }
        using var connection = OpenRaw();
        return Scalar(connection, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
    }

    /// <summary>Applies --lease-ms (lease duration; renewal every quarter of it) to a worker's options.</summary>
    public static void ApplyLease(KeelOptions o, BenchOptions options)
    {
        if (options.LeaseMs is { } lease)
        {
            o.LeaseDuration = TimeSpan.FromMilliseconds(lease);
            o.LeaseRenewInterval = TimeSpan.FromMilliseconds(Math.Max(100, lease / 4));
        }
    }

    /// <summary>Drops the Postgres schema (CASCADE); deletes nothing for SQLite (the data directory is removed by Program).</summary>
    public async Task DropAsync()
    {
        if (!IsPostgres)
        {
            return;
        }
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, ApplicationName = "keel-bench" };
        var connection = new NpgsqlConnection(builder.ToString());
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE;", connection);
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Server facts for the settings (version, fsync, synchronous_commit, wal_sync_method, address).</summary>
    public async Task DescribeAsync(JsonObject settings)
    {
        if (!IsPostgres)
        {
            settings["sqlite_db"] = Db;
            return;
        }
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        settings["postgres_host"] = $"{builder.Host}:{builder.Port}/{builder.Database}";
        settings["postgres_schema"] = Schema;
        var connection = (NpgsqlConnection)OpenRaw();
        await using (connection.ConfigureAwait(false))
        {
            foreach (var name in new[] { "server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "shared_buffers" })
            {
                var command = new NpgsqlCommand($"SHOW {name};", connection);
                await using (command.ConfigureAwait(false))
                {
                    settings["postgres_" + name] = (string?)await command.ExecuteScalarAsync().ConfigureAwait(false);
                }
            }
        }
    }
}
