using Keel.Sqlite;
using Keel.Storage;

namespace Keel.Tests.Storage;

public class SqliteGroupCommitTests
{
    [Theory]
    [InlineData(SqliteDurability.Full)]
    [InlineData(SqliteDurability.Normal)]
    public async Task ConcurrentAppendsOfManyRuns_ShareCommits(SqliteDurability durability)
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore(durability);
        await store.InitializeAsync(TestHost.Token);
        var now = DateTimeOffset.UnixEpoch.AddDays(1);
        for (var i = 0; i < 200; i++)
        {
            await store.CreateRunAsync(new NewRun { RunId = $"r{i}", WorkflowName = "w", Input = "{}", CreatedAt = now }, TestHost.Token);
        }
        var claimed = await store.ClaimRunsAsync(new ClaimRequest { Owner = "w1", WorkflowNames = ["w"], MaxRuns = 200, Now = now, LeaseExpiresAt = now.AddMinutes(1) }, TestHost.Token);
        Assert.Equal(200, claimed.Count);

        var before = store.Commits;
        var appends = claimed.Select(c => store.AppendAsync(c.Lease,
            [new JournalEntry { Sequence = 1, Kind = JournalEntryKind.StepCompleted, Name = "s", RecordedAt = now, Payload = "1" }],
            null, TestHost.Token)).ToList();
        Assert.All(await Task.WhenAll(appends), Assert.True);
        var commits = store.Commits - before;
        Assert.InRange(commits, 1, 20); // 200 appends queued together are committed in a few transactions, not 200
        foreach (var c in claimed.Take(5))
        {
            Assert.Single(await store.GetJournalAsync(c.Run.RunId, TestHost.Token));
        }
    }

    [Fact]
    public async Task UnderAStreamOfCommits_TheWalStartsOverInsteadOfGrowing()
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore(SqliteDurability.Full);
        await store.InitializeAsync(TestHost.Token);
        var now = DateTimeOffset.UnixEpoch.AddDays(1);
        await store.CreateRunAsync(new NewRun { RunId = "r", WorkflowName = "w", Input = "{}", CreatedAt = now }, TestHost.Token);
        var lease = (await store.ClaimRunsAsync(new ClaimRequest { Owner = "w1", WorkflowNames = ["w"], MaxRuns = 1, Now = now, LeaseExpiresAt = now.AddHours(1) }, TestHost.Token))[0].Lease;

        // One commit after another, with no pause for the background checkpoint to finish in: several of its rounds
        // (every 500 ms) pass while the writer keeps adding frames.
        var before = store.Commits;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var seq = 1; clock.Elapsed < TimeSpan.FromSeconds(2.5); seq++)
        {
            Assert.True(await store.AppendAsync(lease,
                [new JournalEntry { Sequence = seq, Kind = JournalEntryKind.StepCompleted, Name = "s", RecordedAt = now, Payload = new string('x', 300) }],
                null, TestHost.Token));
        }
        var commits = store.Commits - before;
        // Frames in the WAL since it last started over (each commit adds at least one): without a restart, all of them.
        using var probe = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db.Path};Pooling=False");
        probe.Open();
        using var checkpoint = probe.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        using var result = checkpoint.ExecuteReader();
        Assert.True(result.Read());
        var frames = result.GetInt64(1);
        Assert.True(frames < commits * 0.8, $"the WAL holds {frames} frames after {commits} commits: it never started over");
    }
}
