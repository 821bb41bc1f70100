using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The custom status (<see cref="RunUpdate.CustomStatus"/>) and the time of a change (<see cref="RunUpdate.At"/>).</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task CustomStatus_IsKeptUntilChanged_AndEveryChangeMovesTheRunsLastChange()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = Assert.Single(await ClaimAsync(store, "a", T0));
        var halfWay = new RunCustomStatus("half way", "{\"done\":5}", T0.AddSeconds(1));
        Assert.True(await store.AppendAsync(claim.Lease, [], new RunUpdate { CustomStatus = halfWay, At = T0.AddSeconds(1) }, Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal((halfWay, T0.AddSeconds(1)), (run.CustomStatus, run.UpdatedAt));

        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.RecordRecoveryPoint("p", T0.AddSeconds(2)), Token)); // no custom status: kept
        run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal((halfWay, T0.AddSeconds(2)), (run.CustomStatus, run.UpdatedAt));

        var done = new RunCustomStatus("done", null, T0.AddSeconds(3));
        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(3), result: "1") with { CustomStatus = done }, Token));
        run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal((RunStatus.Completed, done, T0.AddSeconds(3)), (run.Status, run.CustomStatus, run.UpdatedAt));
    }
}
