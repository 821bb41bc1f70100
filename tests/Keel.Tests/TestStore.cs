using Keel.Sqlite;

namespace Keel.Tests;

/// <summary>A temporary database file, deleted (with its WAL) when disposed.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keel-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Path = System.IO.Path.Combine(Directory, "keel.db");
    }

    public string Directory { get; }

    public string Path { get; }

    public SqliteWorkflowStore CreateStore(SqliteDurability durability = SqliteDurability.Normal) =>
        new(new SqliteStoreOptions { Path = Path, Durability = durability });

    /// <summary>The run's unconsumed signals, read through a store of its own.</summary>
    public async Task<IReadOnlyList<Keel.Storage.StoredSignal>> InboxAsync(string runId)
    {
        await using var store = CreateStore();
        return await store.GetSignalsAsync(runId, TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
