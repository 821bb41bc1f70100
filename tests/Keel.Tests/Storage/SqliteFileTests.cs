using Keel.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

public class SqliteFileTests
{
    [Fact]
    public async Task ForeignSqliteDatabase_IsRefusedAndNotModified()
    {
        using var db = new TempDatabase();
        using (var connection = new SqliteConnection($"Data Source={db.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);";
            command.ExecuteNonQuery();
        }
        var before = await File.ReadAllBytesAsync(db.Path, TestHost.Token);
        await using var store = db.CreateStore();
        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(TestHost.Token));
        Assert.Contains("another application", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(db.Path, TestHost.Token));
    }

    [Fact]
    public async Task MissingFile_WithCreateIfMissingOff_IsAClearErrorAndCreatesNothing()
    {
        using var db = new TempDatabase();
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db.Path, CreateIfMissing = false });
        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(TestHost.Token));
        Assert.Contains("no Keel database", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(db.Path));
    }

    [Fact]
    public async Task MigrateOnStartOff_OlderSchema_IsRefusedByteIdenticalWithoutCompanionFiles()
    {
        using var db = new TempDatabase();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journals", "golden-v1.db"), db.Path);
        var before = await File.ReadAllBytesAsync(db.Path, TestHost.Token);
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db.Path, MigrateOnStart = false });

        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(TestHost.Token));

        Assert.Contains("has schema version 1, older than", ex.Message, StringComparison.Ordinal);
        Assert.Contains("keel migrate", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(db.Path, TestHost.Token));
        Assert.Equal([db.Path], Directory.GetFileSystemEntries(db.Directory));
    }

    [Fact]
    public async Task MigrateOnStartOff_ZeroByteFile_IsRefusedAsEmptyAndStaysEmpty()
    {
        using var db = new TempDatabase();
        await File.WriteAllBytesAsync(db.Path, [], TestHost.Token);
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db.Path, MigrateOnStart = false });

        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(TestHost.Token));

        Assert.Contains("is not a Keel database: it is empty", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(db.Path).Length);
        Assert.Equal([db.Path], Directory.GetFileSystemEntries(db.Directory));
    }

    [Fact]
    public async Task MigrateOnStartOff_CurrentSchema_OpensAndReads()
    {
        using var db = new TempDatabase();
        await using (var creator = db.CreateStore())
        {
            await creator.InitializeAsync(TestHost.Token);
        }
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db.Path, MigrateOnStart = false });

        await store.InitializeAsync(TestHost.Token);

        Assert.Null(await store.GetRunAsync("nothing-here", TestHost.Token));
    }

    [Fact]
    public async Task Initialize_CurrentSchemaWhileAnotherConnectionHoldsTheWriteLock_DoesNotWaitForIt()
    {
        using var db = new TempDatabase();
        await using (var creator = db.CreateStore())
        {
            await creator.InitializeAsync(TestHost.Token);
        }
        await using var writer = new SqliteConnection($"Data Source={db.Path};Pooling=False");
        await writer.OpenAsync(TestHost.Token);
        using var transaction = writer.BeginTransaction(deferred: false);
        using (var insert = writer.CreateCommand())
        {
            insert.CommandText = "INSERT INTO keel_meta (key, value) VALUES ('test-lock', 'held');";
            insert.ExecuteNonQuery();
        }
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db.Path, BusyTimeout = TimeSpan.FromSeconds(10) });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await store.InitializeAsync(TestHost.Token);
        Assert.Null(await store.GetRunAsync("nothing-here", TestHost.Token));

        // A check inside a write transaction would queue behind the lock for the busy timeout, then fail.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
