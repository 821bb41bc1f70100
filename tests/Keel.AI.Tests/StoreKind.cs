using Keel.Postgres;
using Keel.Sqlite;
using Keel.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Keel.AI.Tests;

/// <summary>
/// A real store of one kind for a test: SQLite in a temporary file, or PostgreSQL (KEEL_TEST_POSTGRES) in a schema of its
/// own, dropped at the end; with the SQL to count what its tables hold.
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private readonly string? _postgres;
    private readonly string _schema = "keel_ai_" + Guid.NewGuid().ToString("N")[..16];

    public TestStore(string kind)
    {
        Kind = kind;
        if (kind == "postgres")
        {
            _postgres = Environment.GetEnvironmentVariable("KEEL_TEST_POSTGRES") is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException("KEEL_TEST_POSTGRES is not set, so the PostgreSQL tests have no server: run ./test.sh " +
                    "(it starts one with eng/postgres.sh), or source the file `eng/postgres.sh start FILE` writes.");
        }
    }

    public string Kind { get; }

    public TempDir Dir => _dir;

    public IWorkflowStore Create() => _postgres is null
        ? new SqliteWorkflowStore(new SqliteStoreOptions { Path = _dir.Db, Durability = SqliteDurability.Normal })
        : new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = _postgres, Schema = _schema });

    /// <summary>A worker on this store, with short drain and poll times.</summary>
    public Task<KeelHost> StartAsync(Action<KeelBuilder> workflows, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        KeelHost.StartAsync(k =>
        {
            k.UseStore(_ => Create());
            k.Configure(o =>
            {
                o.DrainTimeout = TimeSpan.FromMilliseconds(200);
                o.PollInterval = TimeSpan.FromMilliseconds(20);
            });
            workflows(k);
        }, services, TestHosts.Token);

    /// <summary>Runs SQL that returns one row of numbers (table names unqualified: the store's schema is searched).</summary>
    public async Task<long[]> NumbersAsync(string sql)
    {
        if (_postgres is null)
        {
            await using var sqlite = new SqliteConnection($"Data Source={_dir.Db};Pooling=False");
            await sqlite.OpenAsync(TestHosts.Token);
            await using var command = sqlite.CreateCommand();
            command.CommandText = sql;
            return await ReadAsync(await command.ExecuteReaderAsync(TestHosts.Token));
        }
        await using var connection = new NpgsqlConnection(_postgres + ";Pooling=false;Search Path=" + _schema);
        await connection.OpenAsync(TestHosts.Token);
        await using var pg = new NpgsqlCommand(sql, connection);
        return await ReadAsync(await pg.ExecuteReaderAsync(TestHosts.Token));

        static async Task<long[]> ReadAsync(System.Data.Common.DbDataReader reader)
        {
            await using (reader)
            {
                Assert.True(await reader.ReadAsync(TestHosts.Token));
                return [.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? 0 : Convert.ToInt64(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))];
            }
        }
    }

    /// <summary>Runs SQL that changes rows.</summary>
    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        if (_postgres is null)
        {
            await using var sqlite = new SqliteConnection($"Data Source={_dir.Db};Pooling=False");
            await sqlite.OpenAsync(TestHosts.Token);
            await using var command = sqlite.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue("@" + name, value);
            }
            await command.ExecuteNonQueryAsync(TestHosts.Token);
            return;
        }
        await using var connection = new NpgsqlConnection(_postgres + ";Pooling=false;Search Path=" + _schema);
        await connection.OpenAsync(TestHosts.Token);
        await using var pg = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            pg.Parameters.AddWithValue(name, value);
        }
        await pg.ExecuteNonQueryAsync(TestHosts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgres + ";Pooling=false");
            await connection.OpenAsync(TestHosts.Token);
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE;", connection);
            await drop.ExecuteNonQueryAsync(TestHosts.Token);
        }
        _dir.Dispose();
    }
}
