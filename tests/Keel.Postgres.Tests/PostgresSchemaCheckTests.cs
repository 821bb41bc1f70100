namespace Keel.Postgres.Tests;

/// <summary>
/// Start-up reads the schema version with plain queries: a current schema is used without DDL or locks (so a read-only
/// role or session works), and a store that may not migrate refuses a missing or older schema without creating anything.
/// </summary>
public sealed class PostgresSchemaCheckTests : IAsyncDisposable
{
    private readonly TestDatabase _db = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    /// <summary>Options whose sessions cannot write at all, as on a standby or with a read-only role.</summary>
    private PostgresStoreOptions ReadOnlySession(bool migrateOnStart) => _db.Options with
    {
        ConnectionString = _db.ConnectionString + ";Options=-c default_transaction_read_only=on",
        MigrateOnStart = migrateOnStart,
    };

    [Fact]
    public async Task MigrateOnStartOff_MissingSchema_IsRefusedClearly_AndNothingIsCreated()
    {
        await using var store = new PostgresWorkflowStore(ReadOnlySession(migrateOnStart: false));

        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(Token));

        Assert.Contains($"There is no Keel schema '{_db.Schema}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("keel migrate", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0L, (long)(await _db.ScalarAsync($"SELECT count(*) FROM pg_namespace WHERE nspname = '{_db.Schema}';"))!);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CurrentSchema_OnASessionThatCannotWrite_OpensAndReads(bool migrateOnStart)
    {
        await using (var creator = _db.CreateStore())
        {
            await creator.CreateRunAsync(new Keel.Storage.NewRun
            {
                RunId = "r-1", WorkflowName = "w", Input = "1", CreatedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            }, Token);
        }
        await using var store = new PostgresWorkflowStore(ReadOnlySession(migrateOnStart));

        await store.InitializeAsync(Token);

        Assert.Equal("w", (await store.GetRunAsync("r-1", Token))!.WorkflowName);
    }

    [Fact]
    public async Task MigrateOnStartOff_OlderSchema_IsRefusedWithBothVersions_AndLeftAsItIs()
    {
        await using (var creator = _db.CreateStore())
        {
            await creator.InitializeAsync(Token);
        }
        await _db.ScalarAsync($"UPDATE {_db.Schema}.schema_version SET version = 1;");
        await using var store = new PostgresWorkflowStore(_db.Options with { MigrateOnStart = false });

        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(Token));

        Assert.Contains($"is at version 1 and this Keel needs {PostgresWorkflowStore.SchemaVersion}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("keel migrate", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, (int)(await _db.ScalarAsync($"SELECT version FROM {_db.Schema}.schema_version;"))!);
    }

    [Fact]
    public async Task NewerSchema_IsRefused_EvenWithMigrateOnStart_AndLeftAsItIs()
    {
        await using (var creator = _db.CreateStore())
        {
            await creator.InitializeAsync(Token);
        }
        var newer = PostgresWorkflowStore.SchemaVersion + 1;
        await _db.ScalarAsync($"UPDATE {_db.Schema}.schema_version SET version = {newer};");
        await using var store = _db.CreateStore();

        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(Token));

        Assert.Contains("Upgrade Keel", ex.Message, StringComparison.Ordinal);
        Assert.Equal(newer, (int)(await _db.ScalarAsync($"SELECT version FROM {_db.Schema}.schema_version;"))!);
    }
}
