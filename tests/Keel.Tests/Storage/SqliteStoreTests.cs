using Keel.Sqlite;
using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

/// <summary>SQLite-only store behaviour; the shared contract is in <see cref="SqliteStoreConformanceTests"/>.</summary>
public class SqliteStoreTests
{
    private static async Task<SqliteWorkflowStore> OpenAsync(TempDatabase db)
    {
        var store = db.CreateStore();
        await store.InitializeAsync(TestHost.Token);
        return store;
    }

    [Fact]
    public async Task RunsReadFromManyThreads_AreCurrent_AndTheStoreClosesEveryConnectionWhenDisposed()
    {
        using var db = new TempDatabase();
        var store = await OpenAsync(db);
        await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = DateTimeOffset.UnixEpoch }, TestHost.Token);
        // Reads on several threads (each keeps its own connection), then a write: every thread sees it at its next read.
        async Task<RunStatus> ReadOnThreadsAsync() =>
            (await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.GetRunAsync("r", TestHost.Token), TestHost.Token)))).Select(r => r!.Status).Distinct().Single();
        Assert.Equal(RunStatus.Pending, await ReadOnThreadsAsync());
        Assert.Equal(CancelOutcome.Cancelled, await store.RequestCancelAsync("r", null, DateTimeOffset.UnixEpoch, TestHost.Token));
        Assert.Equal(RunStatus.Cancelled, await ReadOnThreadsAsync());
        Assert.Null(await store.GetRunAsync("missing", TestHost.Token));

        await store.DisposeAsync();
        // No file handle on the database is left open (Linux: the process's descriptors).
        if (OperatingSystem.IsLinux())
        {
            var open = Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget).Where(t => t?.StartsWith(db.Path, StringComparison.Ordinal) == true).ToList();
            Assert.Empty(open);
        }
    }

    [Fact]
    public async Task CorruptedFile_IsRefusedWithClearErrorAndNotModified()
    {
        using var db = new TempDatabase();
        var garbage = new byte[8192];
        new Random(7).NextBytes(garbage);
        await File.WriteAllBytesAsync(db.Path, garbage, TestHost.Token);
        await using var store = db.CreateStore();
        var ex = await Assert.ThrowsAsync<StorageException>(() => store.InitializeAsync(TestHost.Token));
        Assert.Contains("not a Keel database or is corrupted", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(db.Path, TestHost.Token));
    }

    [Fact]
    public async Task LockedFile_WriteFailsAsTransientWithClearError()
    {
        using var db = new TempDatabase();
        await using (var store = await OpenAsync(db))
        {
        }
        using var holder = new SqliteConnection($"Data Source={db.Path};Pooling=False");
        holder.Open();
        using (var command = holder.CreateCommand())
        {
            command.CommandText = "BEGIN EXCLUSIVE;";
            command.ExecuteNonQuery();
        }
        await using var locked = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db.Path, BusyTimeout = TimeSpan.FromSeconds(1) });
        // Opening a current database only reads (WAL readers never wait for the writer); the first write waits, then fails.
        await locked.InitializeAsync(TestHost.Token);
        var ex = await Assert.ThrowsAsync<StorageException>(() => locked.CreateRunAsync(
            new NewRun { RunId = "r", WorkflowName = "w", Input = "1", CreatedAt = DateTimeOffset.UnixEpoch }, TestHost.Token));
        Assert.True(ex.IsTransient);
        Assert.Contains("locked by another process", ex.Message, StringComparison.Ordinal);
    }
}
