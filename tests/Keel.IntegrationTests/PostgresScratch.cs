using Keel.Postgres;
using Npgsql;

namespace Keel.IntegrationTests;

/// <summary>A schema of its own on the test server (KEEL_TEST_POSTGRES) for one test, dropped at the end.</summary>
internal sealed class PostgresScratch : IAsyncDisposable
{
    public PostgresScratch(string prefix)
    {
        ConnectionString = Environment.GetEnvironmentVariable("KEEL_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "KEEL_TEST_POSTGRES is not set, so the PostgreSQL chaos tests have no server. Run ./test.sh (it starts a " +
                "throwaway PostgreSQL with eng/postgres.sh), or set KEEL_TEST_POSTGRES to an Npgsql connection string.");
        Schema = prefix + Guid.NewGuid().ToString("N")[..16];
        Store = new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = ConnectionString, Schema = Schema });
    }

    public string ConnectionString { get; }

    public string Schema { get; }

    public PostgresWorkflowStore Store { get; }

    /// <summary>The worker arguments that point at this schema.</summary>
    public string[] WorkerArgs => ["--postgres", ConnectionString, "--schema", Schema];

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE;", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
