using Npgsql;

namespace Keel.Postgres.Tests;

/// <summary>
/// The test server (KEEL_TEST_POSTGRES) and a schema of its own per test, dropped at the end. Without the variable
/// every test fails and says how to get a server: these tests never skip silently.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string Variable = "KEEL_TEST_POSTGRES";

    public TestDatabase()
    {
        ConnectionString = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set, so the PostgreSQL tests have no server. Run ./test.sh (it starts a throwaway PostgreSQL " +
                $"with eng/postgres.sh), or `source <(eng/postgres.sh start /tmp/pg.env | tail -1)`, or set {Variable} to an Npgsql " +
                "connection string of a server where the user may create schemas.");
        Schema = "keel_t_" + Guid.NewGuid().ToString("N")[..16];
    }

    public string ConnectionString { get; }

    public string Schema { get; }

    public PostgresStoreOptions Options => new() { ConnectionString = ConnectionString, Schema = Schema };

    public PostgresWorkflowStore CreateStore(int maxAppendBatchSize = 256, int appendWriters = 2) =>
        new(Options with { MaxAppendBatchSize = maxAppendBatchSize, AppendWriters = appendWriters });

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ScalarAsync($"DROP SCHEMA IF EXISTS {Schema} CASCADE;");
    }
}
