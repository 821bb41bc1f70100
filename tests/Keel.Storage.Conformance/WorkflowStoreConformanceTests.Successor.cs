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
        Assert.True(await store.AppendAsync(child.Lease, [], RunUpdate.ContinueAsNew(new NewRun { RunId = "parent.1~2", WorkflowName = "w", Input = "2", CreatedAt = T0.AddSeconds(1), ParentRunId = "parent", ParentSequence = 1 }, null, T0.AddSeconds(1)), Token));
        Assert.Equal("parent.1~2", (await store.GetRunAsync("parent.1", Token))!.ContinuedAsRunId);
        Assert.Empty(await store.GetSignalsAsync("parent", Token));
        var successor = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)));
        Assert.Equal(("parent.1~2", "2"), (successor.Run.RunId, successor.Run.Input));

        Assert.True(await store.AppendAsync(successor.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(3), result: "42", notifyParent: new ParentNotice("parent", ParentNotice.SignalNameFor(1), "{\"status\":\"Completed\",\"result\":\"42\"}")), Token));
        Assert.Equal("keel.child/1", Assert.Single(await store.GetSignalsAsync("parent", Token)).Name);
        Assert.Equal("parent", Assert.Single(await ClaimAsync(store, "c", T0.AddSeconds(3))).Run.RunId);
    }
}
