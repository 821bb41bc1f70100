using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>A run's token totals (<see cref="RunUpdate.Tokens"/>, <see cref="RunInfo.Tokens"/>): kept by the appends that journal model calls.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Tokens_AreAddedByTheAppendsThatCarryThem_AndNotByAFencedOutOne()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.Null((await store.GetRunAsync("r", Token))!.Tokens); // no model call yet

        Assert.True(await store.AppendAsync(claim.Lease, [Entry(1, "chat")], new RunUpdate { Tokens = new(10, 5, 15, 1), At = T0 }, Token));
        Assert.True(await store.AppendAsync(claim.Lease, [Entry(2, "step")], null, Token)); // no tokens: unchanged
        Assert.True(await store.AppendAsync(claim.Lease, [Entry(3, "chat"), Entry(4, "chat")], new RunUpdate { Tokens = new(20, 7, 27, 2), At = T0 }, Token));
        Assert.Equal(new TokenTotals(30, 12, 42, 3), (await store.GetRunAsync("r", Token))!.Tokens);

        // A stale holder's append writes nothing, its tokens neither.
        Assert.False(await store.AppendAsync(new RunLease("r", "a", claim.Lease.Epoch + 1), [Entry(5, "chat")],
            new RunUpdate { Tokens = new(1, 1, 2, 1), At = T0 }, Token));
        // With the run's end, in one transaction; listed and read alike.
        Assert.True(await store.AppendAsync(claim.Lease, [Entry(5, "chat")], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(1), result: "1") with
        {
            Tokens = new(3, 2, 5, 1),
        }, Token));
        var expected = new TokenTotals(33, 14, 47, 4);
        Assert.Equal(expected, (await store.GetRunAsync("r", Token))!.Tokens);
        Assert.Equal(expected, Assert.Single((await store.ListRunsAsync(new RunQuery(), Token)).Runs).Tokens);
        Assert.Equal(expected, Assert.Single(await store.GetRunsAsync(["r"], Token)).Tokens);
    }

    [Fact]
    public async Task Tokens_OfManyRunsAppendingAtOnce_AreEachRunsOwn()
    {
        // Concurrent appends are group-committed together (PostgreSQL: one statement over arrays).
        var store = await OpenAsync();
        for (var i = 0; i < 8; i++)
        {
            await CreateAsync(store, $"r{i}");
        }
        var claims = await ClaimAsync(store, "a", T0, max: 8);
        Assert.Equal(8, claims.Count);
        await Task.WhenAll(claims.Select(async c =>
        {
            var n = int.Parse(c.Run.RunId[1..], System.Globalization.CultureInfo.InvariantCulture) + 1;
            for (var call = 1; call <= 3; call++)
            {
                Assert.True(await store.AppendAsync(c.Lease, [Entry(call, "chat")], new RunUpdate { Tokens = new(n, 2 * n, 3 * n, 1), At = T0 }, Token));
            }
        }));
        foreach (var c in claims)
        {
            var n = int.Parse(c.Run.RunId[1..], System.Globalization.CultureInfo.InvariantCulture) + 1;
            Assert.Equal(new TokenTotals(3 * n, 6 * n, 9 * n, 3), (await store.GetRunAsync(c.Run.RunId, Token))!.Tokens);
        }
    }

    [Fact]
    public async Task Tokens_NegativeCounts_AreRefusedBeforeAnythingIsWritten()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = Assert.Single(await ClaimAsync(store, "a", T0));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() =>
            store.AppendAsync(claim.Lease, [Entry(1, "chat")], new RunUpdate { Tokens = new(-1, 0, 0, 1), At = T0 }, Token));
        Assert.Contains("negative", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await store.GetJournalAsync("r", Token));
    }
}
