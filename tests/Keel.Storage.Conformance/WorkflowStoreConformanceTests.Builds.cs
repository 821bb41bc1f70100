using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The build a run started on (<see cref="RunInfo.BuildId"/>) and claims limited to the builds a worker serves
/// (<see cref="ClaimRequest.ServesBuilds"/>).</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    private static Task<IReadOnlyList<ClaimedRun>> ClaimAsBuildAsync(IWorkflowStore store, string owner, DateTimeOffset now, string build,
        IReadOnlyCollection<string>? serves = null, int maxAlone = 0) =>
        store.ClaimRunsAsync(new ClaimRequest
        {
            Owner = owner, WorkflowNames = ["w"], MaxRuns = 10, MaxAlone = maxAlone, Now = now, LeaseExpiresAt = now.AddSeconds(30), Build = build,
            ServesBuilds = serves,
        }, Token);

    [Fact]
    public async Task Claim_RecordsTheClaimersBuild_OnRunsWithoutOne_AndNeverChangesIt()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        Assert.Null((await store.GetRunAsync("r", Token))!.BuildId);

        var first = Assert.Single(await ClaimAsBuildAsync(store, "a", T0, "1.0"));
        Assert.Equal("1.0", first.Run.BuildId);
        Assert.True(await store.AppendAsync(first.Lease, [Entry(1, "one")], RunUpdate.HandBack(T0), Token));

        var second = Assert.Single(await ClaimAsBuildAsync(store, "b", T0.AddSeconds(1), "2.0"));
        Assert.Equal("1.0", second.Run.BuildId); // the build it started on, not the one running it now
        Assert.Equal("1.0", (await store.GetRunAsync("r", Token))!.BuildId);
        Assert.Equal("1.0", Assert.Single((await store.ListRunsAsync(new RunQuery(), Token)).Runs).BuildId);
    }

    [Fact]
    public async Task Create_WithABuild_KeepsIt_ForAHeldStartAndAFork()
    {
        var store = await OpenAsync();
        await store.CreateRunAsync(new NewRun
        {
            RunId = "eager", WorkflowName = "w", Input = "{}", CreatedAt = T0, Owner = "a", LeaseExpiresAt = T0.AddSeconds(30), BuildId = "1.0",
        }, Token);
        Assert.Equal("1.0", (await store.GetRunAsync("eager", Token))!.BuildId);

        var record = new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunForked, Name = "w", RecordedAt = T0, Payload = "{}" };
        Assert.Equal(ForkOutcome.Forked, await store.ForkAsync(
            new NewRun { RunId = "copy", WorkflowName = "w", Input = "{}", CreatedAt = T0, BuildId = "1.0" }, [record], "eager", record, Token));
        var claimed = Assert.Single(await ClaimAsBuildAsync(store, "b", T0.AddSeconds(1), "2.0"));
        Assert.Equal(("copy", "1.0"), (claimed.Run.RunId, claimed.Run.BuildId));
    }

    [Fact]
    public async Task Claim_ServingSomeBuilds_TakesNewRunsAndRunsOfThoseBuilds_ByNameOrPrefix_AndLeavesTheRest()
    {
        var store = await OpenAsync();
        foreach (var (id, build) in new[] { ("v1", "1.0"), ("v14", "1.4.2+abc"), ("v2", "2.0") })
        {
            await CreateAsync(store, id);
            var held = Assert.Single(await ClaimAsBuildAsync(store, "starter", T0, build));
            var wait = RunUpdate.ReleaseToWait(RunStatus.Waiting, T0.AddSeconds(1), null, null, "a timer", T0); // due again after the setup
            Assert.True(await store.AppendAsync(held.Lease, [Entry(1, "one")], wait, Token));
        }
        await CreateAsync(store, "fresh");

        var taken = await ClaimAsBuildAsync(store, "w2", T0.AddSeconds(1), "2.0", serves: ["2.0", "1.4.*"]);

        Assert.Equal(["fresh", "v14", "v2"], taken.Select(c => c.Run.RunId).Order(StringComparer.Ordinal));
        Assert.Equal("2.0", taken.Single(c => c.Run.RunId == "fresh").Run.BuildId);
        Assert.Equal("v1", Assert.Single(await ClaimAsBuildAsync(store, "w1", T0.AddSeconds(2), "1.0", serves: ["1.0"])).Run.RunId);
    }

    [Fact]
    public async Task Claim_ServingSomeBuilds_DoesNotTakeOverARunOfAnotherBuild_FromADeadHolder()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var held = Assert.Single(await ClaimAsBuildAsync(store, "a", T0, "1.0"));
        Assert.True(await store.AppendAsync(held.Lease, [Entry(1, "one")], null, Token));
        await store.ExpireLeasesAsync(["a"], Token); // its holder died: the next claim takes it over as a suspect

        Assert.Empty(await ClaimAsBuildAsync(store, "b", T0.AddSeconds(1), "2.0", serves: ["2.0"], maxAlone: 1));
        // (later: a store may look for lapsed leases only every so often)
        var taken = Assert.Single(await ClaimAsBuildAsync(store, "c", T0.AddSeconds(2), "1.0", serves: ["1.0"], maxAlone: 1));
        Assert.Equal(("r", "1.0"), (taken.Run.RunId, taken.Run.BuildId));
    }
}
