using Keel.Storage;
using Keel.Storage.Conformance;

namespace Keel.Postgres.Tests;

/// <summary>The store contract on PostgreSQL with unbatched appends (each on its own pooled connection).</summary>
public sealed class PostgresUnbatchedStoreConformanceTests : PostgresStoreConformanceTests
{
    protected override int MaxAppendBatchSize => 1;
}

/// <summary>The store contract on PostgreSQL (group-committed appends): a schema of its own per test.</summary>
public class PostgresStoreConformanceTests : WorkflowStoreConformanceTests
{
    private readonly TestDatabase _db = new();

    protected virtual int MaxAppendBatchSize => 256;

    protected override IWorkflowStore CreateStore() => _db.CreateStore(MaxAppendBatchSize);

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
        GC.SuppressFinalize(this);
    }
}
