using Keel.Sqlite;
using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

public class SqliteStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static async Task<SqliteWorkflowStore> OpenAsync(TempDatabase db)
    {
        var store = db.CreateStore();
        await store.InitializeAsync(TestHost.Token);
        return store;
    }

    private static Task<IReadOnlyList<ClaimedRun>> ClaimAsync(SqliteWorkflowStore store, string owner, DateTimeOffset now, int max = 10) =>
        store.ClaimRunsAsync(new ClaimRequest { Owner = owner, WorkflowNames = ["w"], MaxRuns = max, Now = now, LeaseExpiresAt = now.AddSeconds(30) }, TestHost.Token);

    private static JournalEntry Entry(int seq, string name) =>
        new() { Sequence = seq, Kind = JournalEntryKind.StepCompleted, Name = name, RecordedAt = T0, Payload = "1" };

    [Fact]
    public async Task Append_AfterLeaseWasTakenOver_IsRefusedAndWritesNothing()
    {
        using var db = new TempDatabase();
        await using var store = await OpenAsync(db);
        await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, TestHost.Token);
        var a = (await ClaimAsync(store, "worker-a", T0)).Single();
        Assert.True(await store.AppendAsync(a.Lease, [Entry(1, "one")], null, TestHost.Token));

        Assert.Empty(await ClaimAsync(store, "worker-b", T0.AddSeconds(10))); // lease still valid
        var b = (await ClaimAsync(store, "worker-b", T0.AddSeconds(31))).Single(); // expired: B takes over
        Assert.True(b.Lease.Epoch > a.Lease.Epoch);

        Assert.False(await store.AppendAsync(a.Lease, [Entry(2, "stale")], null, TestHost.Token));
        Assert.True(await store.AppendAsync(b.Lease, [Entry(2, "two")], null, TestHost.Token));
        var renewal = await store.RenewLeasesAsync("worker-a", [a.Lease], T0.AddMinutes(5), TestHost.Token);
        Assert.Equal(["r"], renewal.Lost);
        Assert.Equal(["one", "two"], (await store.GetJournalAsync("r", TestHost.Token)).Select(e => e.Name));
    }

    [Fact]
    public async Task Claim_TakesHigherPriorityFirstThenEarlierDue_AndOnlyKnownWorkflows()
    {
        using var db = new TempDatabase();
        await using var store = await OpenAsync(db);
        await store.CreateRunAsync(new NewRun { RunId = "low-early", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, TestHost.Token);
        await store.CreateRunAsync(new NewRun { RunId = "high-late", WorkflowName = "w", Input = "{}", Priority = 5, CreatedAt = T0.AddSeconds(2) }, TestHost.Token);
        await store.CreateRunAsync(new NewRun { RunId = "low-late", WorkflowName = "w", Input = "{}", CreatedAt = T0.AddSeconds(1) }, TestHost.Token);
        await store.CreateRunAsync(new NewRun { RunId = "other", WorkflowName = "unknown", Input = "{}", Priority = 9, CreatedAt = T0 }, TestHost.Token);
        await store.CreateRunAsync(new NewRun { RunId = "future", WorkflowName = "w", Input = "{}", Priority = 9, CreatedAt = T0.AddHours(1) }, TestHost.Token);

        var first = await ClaimAsync(store, "a", T0.AddSeconds(3), max: 2);
        Assert.Equal(["high-late", "low-early"], first.Select(c => c.Run.RunId));
        var rest = await ClaimAsync(store, "a", T0.AddSeconds(3));
        Assert.Equal(["low-late"], rest.Select(c => c.Run.RunId));
        Assert.All(first.Concat(rest), c => Assert.Equal(RunStatus.Running, c.Run.Status));
    }

    [Fact]
    public async Task Append_WithTerminalUpdate_FinishesRunAndReleasesLease()
    {
        using var db = new TempDatabase();
        await using var store = await OpenAsync(db);
        await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, TestHost.Token);
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        var done = new RunUpdate { Status = RunStatus.Completed, Result = "42", ReleaseLease = true, At = T0.AddSeconds(1) };
        Assert.True(await store.AppendAsync(claim.Lease, [Entry(0, "w") with { Kind = JournalEntryKind.RunCompleted }], done, TestHost.Token));
        var run = await store.GetRunAsync("r", TestHost.Token);
        Assert.Equal(RunStatus.Completed, run!.Status);
        Assert.Equal("42", run.Result);
        Assert.Equal(T0.AddSeconds(1), run.CompletedAt);
        Assert.Null(run.Owner);
        Assert.Empty(await ClaimAsync(store, "b", T0.AddHours(1)));
    }

    [Fact]
    public async Task Journal_RoundTripsEveryField()
    {
        using var db = new TempDatabase();
        await using var store = await OpenAsync(db);
        await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, TestHost.Token);
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        var entry = new JournalEntry
        {
            Sequence = 3, Kind = JournalEntryKind.StepAttemptFailed, Name = "fetch", Attempt = 2, StartedAt = T0.AddMilliseconds(5),
            RecordedAt = T0.AddMilliseconds(9), Error = new ErrorInfo("System.TimeoutException", "slow", "at X") { IsTerminal = false },
            RetryAt = T0.AddSeconds(4),
        };
        await store.AppendAsync(claim.Lease, [entry], null, TestHost.Token);
        var read = Assert.Single(await store.GetJournalAsync("r", TestHost.Token));
        Assert.Equal(entry with { Index = 0 }, read);
    }

    [Fact]
    public async Task Create_IsIdempotentByRunId()
    {
        using var db = new TempDatabase();
        await using var store = await OpenAsync(db);
        var first = await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "1", CreatedAt = T0 }, TestHost.Token);
        var second = await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "2", CreatedAt = T0.AddSeconds(1) }, TestHost.Token);
        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal("1", second.Run.Input);
        Assert.Equal(T0, second.Run.CreatedAt);
    }

    [Fact]
    public async Task NewerSchema_IsRefusedAndLeftUntouched()
    {
        using var db = new TempDatabase();
        await using (var store = await OpenAsync(db))
        {
            await store.CreateRunAsync(new NewRun { RunId = "keep", WorkflowName = "w", Input = "{}", CreatedAt = T0 }, TestHost.Token);
        }
        using (var connection = new SqliteConnection($"Data Source={db.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE keel_meta SET value = '99' WHERE key = 'schema_version';";
            command.ExecuteNonQuery();
        }
        await using var newer = db.CreateStore();
        var ex = await Assert.ThrowsAsync<StorageException>(() => newer.InitializeAsync(TestHost.Token));
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains("newer Keel", ex.Message, StringComparison.Ordinal);
        using (var connection = new SqliteConnection($"Data Source={db.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM keel_meta WHERE key = 'schema_version'; ";
            Assert.Equal("99", command.ExecuteScalar());
            command.CommandText = "SELECT count(*) FROM runs;";
            Assert.Equal(1L, command.ExecuteScalar());
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
    public async Task LockedFile_FailsAsTransientWithClearError()
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
        var ex = await Assert.ThrowsAsync<StorageException>(() => locked.InitializeAsync(TestHost.Token));
        Assert.True(ex.IsTransient);
        Assert.Contains("locked by another process", ex.Message, StringComparison.Ordinal);
    }
}
