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
}
