using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>Runs counted per status with a list's filters (<see cref="IWorkflowStore.CountRunsAsync"/>).</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Count_CountsRunsPerStatus_WithTheFiltersOfAList()
    {
        var store = await OpenAsync();
        Assert.Empty(await store.CountRunsAsync(new RunQuery(), Token));
        await CreateAsync(store, "a");
        await CreateAsync(store, "b");
        await store.CreateRunAsync(new NewRun { RunId = "late", WorkflowName = "other", Input = "{}", CreatedAt = T0.AddHours(1) }, Token);
        var claimed = Assert.Single(await store.ClaimRunsAsync(new ClaimRequest
        {
            Owner = "w1", WorkflowNames = ["w"], MaxRuns = 1, Now = T0, LeaseExpiresAt = T0.AddSeconds(30),
        }, Token));
        Assert.True(await store.AppendAsync(claimed.Lease, [Entry(1, "one")], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(1), result: "1"), Token));

        var all = await store.CountRunsAsync(new RunQuery { Limit = 1 }, Token); // the limit does not cut a count
        Assert.Equal(2, all[RunStatus.Pending]);
        Assert.Equal(1, all[RunStatus.Completed]);
        Assert.False(all.ContainsKey(RunStatus.Failed));
        Assert.Equal(2, (await store.CountRunsAsync(new RunQuery { WorkflowName = "w" }, Token)).Values.Sum());
        Assert.Equal(1, (await store.CountRunsAsync(new RunQuery { CreatedAfter = T0.AddMinutes(30) }, Token))[RunStatus.Pending]);
        Assert.Equal([RunStatus.Completed], (await store.CountRunsAsync(new RunQuery { Statuses = [RunStatus.Completed, RunStatus.Failed] }, Token)).Keys);
    }
}
