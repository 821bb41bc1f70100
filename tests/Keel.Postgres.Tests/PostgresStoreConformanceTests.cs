using Keel.Storage;
using Keel.Storage.Conformance;

namespace Keel.Postgres.Tests;

/// <summary>The store contract on PostgreSQL: a schema of its own per test.</summary>
public sealed class PostgresStoreConformanceTests : WorkflowStoreConformanceTests
{
    private readonly TestDatabase _db = new();

    protected override IWorkflowStore CreateStore() => _db.CreateStore();

    protected override Task SetSchemaVersionAsync(int version) =>
        _db.ScalarAsync($"UPDATE {_db.Schema}.schema_version SET version = {version};");

    protected override async Task<int> GetSchemaVersionAsync() =>
        (int)(await _db.ScalarAsync($"SELECT version FROM {_db.Schema}.schema_version;"))!;

    protected override async Task<long> CountRunsAsync() =>
        (long)(await _db.ScalarAsync($"SELECT count(*) FROM {_db.Schema}.runs;"))!;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _db.DisposeAsync();
    }
}
