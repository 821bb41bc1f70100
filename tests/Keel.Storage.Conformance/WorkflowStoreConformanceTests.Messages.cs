using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>Messages stored once by hash (<see cref="IWorkflowStore.PutMessagesAsync"/>), and purged with the last run that refers to them.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Messages_AreStoredOncePerHash_AndReadBackByHash()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        await store.PutMessagesAsync("r", [new("h1", "{\"text\":\"one\"}"), new("h2", "{\"text\":\"two\"}"), new("h1", "{\"text\":\"one\"}")], Token);
        // Idempotent: a hash already stored keeps its message (content-addressed: the same hash is the same message).
        await store.PutMessagesAsync("r", [new("h1", "{\"text\":\"other\"}")], Token);
        await store.PutMessagesAsync("r", [], Token);

        var found = await store.GetMessagesAsync(["h1", "h2", "missing"], Token);
        Assert.Equal(2, found.Count);
        Assert.Equal("{\"text\":\"one\"}", found["h1"]);
        Assert.Equal("{\"text\":\"two\"}", found["h2"]);
        Assert.Empty(await store.GetMessagesAsync([], Token));
    }

    [Fact]
    public async Task Messages_RideAnAppend_InItsTransaction_WhateverElseItChanges()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 4; i++)
        {
            await CreateAsync(store, $"r{i}");
        }
        var claims = (await ClaimAsync(store, "a", T0)).OrderBy(c => c.Run.RunId, StringComparer.Ordinal).ToList();
        Assert.Equal(4, claims.Count);
        // At once, so a store that commits appends in groups carries several in one batch.
        var appended = await Task.WhenAll(claims.Select((c, i) => store.AppendAsync(c.Lease, [Entry(1, "chat")],
            new RunUpdate { Messages = [new($"own-{i}", $"{{\"n\":{i}}}"), new("shared", "{\"n\":-1}")], At = T0 }, Token)));
        Assert.All(appended, Assert.True);
        // With an approval opened (an append that changes the inbox) and with a release to wait.
        var opened = new ApprovalRecord { Sequence = 2, Name = "ok", Request = "{}", RequestedAt = T0 };
        Assert.True(await store.AppendAsync(claims[2].Lease, [Entry(2, "ok") with { Kind = JournalEntryKind.ApprovalRequested }],
            new RunUpdate { Approvals = new ApprovalChange { Opened = [opened] }, Messages = [new("asked", "{}")], At = T0 }, Token));
        Assert.True(await store.AppendAsync(claims[3].Lease, [],
            RunUpdate.ReleaseToWait(RunStatus.Waiting, null, ["go"], null, null, T0) with { Messages = [new("released", "{}")] }, Token));

        for (var i = 0; i < 4; i++)
        {
            var linked = await store.GetRunMessagesAsync($"r{i}", Token);
            Assert.Equal($"{{\"n\":{i}}}", linked[$"own-{i}"]);
            Assert.Equal("{\"n\":-1}", linked["shared"]);
        }
        Assert.Contains("asked", (await store.GetRunMessagesAsync("r2", Token)).Keys);
        Assert.Contains("released", (await store.GetRunMessagesAsync("r3", Token)).Keys);
        Assert.Equal(RunStatus.Waiting, (await store.GetRunAsync("r3", Token))!.Status);
        Assert.Single(await store.GetJournalAsync("r0", Token));

        // Validated like the rest of the update, before anything is written.
        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync(claims[0].Lease, [Entry(2, "x")],
            new RunUpdate { Messages = [new("", "{}")], At = T0 }, Token));
        Assert.Single(await store.GetJournalAsync("r0", Token));
    }

    [Fact]
    public async Task Messages_GoWithTheLastPurgedRunThatRefersToThem_SharedOnesStay()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "old");
        await CreateAsync(store, "live");
        await store.PutMessagesAsync("old", [new("only-old", "1"), new("shared", "2")], Token);
        await store.PutMessagesAsync("live", [new("shared", "2"), new("only-live", "3")], Token);
        var claims = await ClaimAsync(store, "a", T0);
        var old = claims.Single(c => c.Run.RunId == "old");
        Assert.True(await store.AppendAsync(old.Lease, [Entry(0, "w") with { Kind = JournalEntryKind.RunCompleted }],
            RunUpdate.Finish(RunStatus.Completed, T0.AddDays(1), result: "1"), Token));

        Assert.Equal(1, await store.PurgeFinishedRunsAsync(T0.AddDays(5), 10, Token));
        var left = await store.GetMessagesAsync(["only-old", "shared", "only-live"], Token);
        Assert.Equal(["only-live", "shared"], left.Keys.Order(StringComparer.Ordinal));

        var live = claims.Single(c => c.Run.RunId == "live");
        Assert.True(await store.AppendAsync(live.Lease, [Entry(0, "w") with { Kind = JournalEntryKind.RunCompleted }],
            RunUpdate.Finish(RunStatus.Completed, T0.AddDays(2), result: "1"), Token));
        Assert.Equal(1, await store.PurgeFinishedRunsAsync(T0.AddDays(5), 10, Token));
        Assert.Empty(await store.GetMessagesAsync(["only-old", "shared", "only-live"], Token));
    }

    [Fact]
    public async Task Messages_OfAForkedRun_StayWhileTheForkRemains()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "src");
        await store.PutMessagesAsync("src", [new("m", "{}")], Token);
        var record = new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunForked, Name = "w", RecordedAt = T0, Payload = "{\"source\":\"src\"}" };
        Assert.Equal(ForkOutcome.Forked, await store.ForkAsync(new NewRun { RunId = "copy", WorkflowName = "w", Input = "{}", CreatedAt = T0 },
            [record, Entry(1, "chat")], "src", record, Token));
        var source = (await ClaimAsync(store, "a", T0)).Single(c => c.Run.RunId == "src");
        Assert.True(await store.AppendAsync(source.Lease, [Entry(0, "w") with { Kind = JournalEntryKind.RunCompleted }],
            RunUpdate.Finish(RunStatus.Completed, T0.AddDays(1), result: "1"), Token));

        Assert.Equal(1, await store.PurgeFinishedRunsAsync(T0.AddDays(5), 10, Token));
        Assert.Null(await store.GetRunAsync("src", Token));
        Assert.Equal("{}", (await store.GetMessagesAsync(["m"], Token))["m"]);
    }

    [Fact]
    public async Task RunMessages_AreTheMessagesLinkedToTheRun_IncludingAForksSources()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "a");
        await CreateAsync(store, "b");
        Assert.Empty(await store.GetRunMessagesAsync("a", Token));
        await store.PutMessagesAsync("a", [new("m1", "{\"n\":1}"), new("shared", "{\"n\":2}")], Token);
        await store.PutMessagesAsync("b", [new("shared", "{\"n\":2}"), new("m3", "{\"n\":3}")], Token);

        var a = await store.GetRunMessagesAsync("a", Token);
        Assert.Equal(["m1", "shared"], a.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("{\"n\":1}", a["m1"]);
        Assert.Equal(["m3", "shared"], (await store.GetRunMessagesAsync("b", Token)).Keys.Order(StringComparer.Ordinal));
        Assert.Empty(await store.GetRunMessagesAsync("missing", Token));

        var record = new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunForked, Name = "w", RecordedAt = T0, Payload = "{\"source\":\"a\"}" };
        Assert.Equal(ForkOutcome.Forked, await store.ForkAsync(new NewRun { RunId = "a-copy", WorkflowName = "w", Input = "{}", CreatedAt = T0 },
            [record], "a", record, Token));
        Assert.Equal(["m1", "shared"], (await store.GetRunMessagesAsync("a-copy", Token)).Keys.Order(StringComparer.Ordinal));
    }
}
