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
}
