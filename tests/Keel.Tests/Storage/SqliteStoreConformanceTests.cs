using System.Globalization;
using Keel.Storage;
using Keel.Storage.Conformance;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

/// <summary>The store contract on SQLite: a temporary database file per test.</summary>
public sealed class SqliteStoreConformanceTests : WorkflowStoreConformanceTests
{
    private readonly TempDatabase _db = new();

    protected override IWorkflowStore CreateStore() => _db.CreateStore();

    protected override async Task SetSchemaVersionAsync(int version) =>
        await ExecuteAsync($"UPDATE keel_meta SET value = '{version}' WHERE key = 'schema_version';");

    protected override async Task<int> GetSchemaVersionAsync() =>
        int.Parse((string)(await ExecuteAsync("SELECT value FROM keel_meta WHERE key = 'schema_version';"))!, CultureInfo.InvariantCulture);

    protected override async Task<long> CountRunsAsync() => (long)(await ExecuteAsync("SELECT count(*) FROM runs;"))!;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _db.Dispose();
    }

    private async Task<object?> ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_db.Path};Pooling=False");
        await connection.OpenAsync(Token);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Token);
    }
}
