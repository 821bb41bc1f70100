using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The successor (<see cref="RunUpdate.ContinueAs"/>): created and linked with the ending of the run it continues.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task FinishingChild_TellsItsWaitingParent_AndContinueAsNew_CreatesTheLinkedSuccessor()
    {
        var store = await ParentWaitingForItsChildAsync();
        var child = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(1)));
        Assert.Equal(("parent", 1), (child.Run.ParentRunId, child.Run.ParentSequence));

        // The child continues as new: the successor inherits the parent link; the parent is not told yet.
        var next = new NewRun { RunId = "parent.1~2", WorkflowName = "w", Input = "2", CreatedAt = T0.AddSeconds(1), ParentRunId = "parent", ParentSequence = 1 };
        Assert.True(await store.AppendAsync(child.Lease, [], RunUpdate.ContinueAsNew(next, null, T0.AddSeconds(1)), Token));
        Assert.Equal("parent.1~2", (await store.GetRunAsync("parent.1", Token))!.ContinuedAsRunId);
        Assert.Empty(await store.GetSignalsAsync("parent", Token));
        var successor = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)));
        Assert.Equal(("parent.1~2", "2"), (successor.Run.RunId, successor.Run.Input));

        var notice = new ParentNotice("parent", ParentNotice.SignalNameFor(1), "{\"status\":\"Completed\",\"result\":\"42\"}");
        Assert.True(await store.AppendAsync(successor.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(3), result: "42", notifyParent: notice), Token));
        Assert.Equal("keel.child/1", Assert.Single(await store.GetSignalsAsync("parent", Token)).Name);
        Assert.Equal("parent", Assert.Single(await ClaimAsync(store, "c", T0.AddSeconds(3))).Run.RunId);
    }
    [Fact]
    public async Task ContinueAsNew_FromAWorkerFencedOut_CreatesNoSuccessor_AndTheHolderCreatesItWithItsPriority()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r", priority: 5);
        var stale = Assert.Single(await ClaimAsync(store, "a", T0));
        var current = Assert.Single(await ClaimAsync(store, "b", T0.AddMinutes(1))); // a's lease lapsed
        NewRun Next(DateTimeOffset at) => new() { RunId = "r~2", WorkflowName = "w", Input = "2", Priority = 5, CreatedAt = at };

        Assert.False(await store.AppendAsync(stale.Lease, [], RunUpdate.ContinueAsNew(Next(T0.AddMinutes(1)), "continued as run r~2", T0.AddMinutes(1)), Token));
        Assert.Equal(1, await CountRunsAsync());
        Assert.Null((await store.GetRunAsync("r", Token))!.ContinuedAsRunId);

        Assert.True(await store.AppendAsync(current.Lease, [], RunUpdate.ContinueAsNew(Next(T0.AddMinutes(2)), "continued as run r~2", T0.AddMinutes(2)), Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal((RunStatus.Completed, "r~2", "continued as run r~2"), (run.Status, run.ContinuedAsRunId, run.StatusReason));
        var successor = (await store.GetRunAsync("r~2", Token))!;
        Assert.Equal((RunStatus.Pending, 5, "2"), (successor.Status, successor.Priority, successor.Input));
        Assert.Equal("r~2", Assert.Single(await ClaimAsync(store, "c", T0.AddMinutes(2))).Run.RunId);
    }
}
