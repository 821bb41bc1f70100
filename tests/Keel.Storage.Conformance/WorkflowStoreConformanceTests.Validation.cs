using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The one validation of <see cref="RunUpdate"/> (<see cref="RunUpdate.Validate"/>): every store applies it
/// before it writes, so an update that breaks a rule changes nothing, whatever else the append carries.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    /// <summary>One update per rule of <see cref="RunUpdate.Validate"/>, each broken alone.</summary>
    protected static IEnumerable<RunUpdate> UpdatesThatBreakARule(DateTimeOffset at)
    {
        var released = new RunTransition { ReleaseLease = true };
        yield return new RunUpdate { Transition = released with { Status = RunStatus.Failed, Result = "1" }, At = at };
        yield return new RunUpdate { Transition = released with { Status = RunStatus.Waiting, Error = new ErrorInfo("E", "m", null) }, At = at };
        yield return new RunUpdate { Transition = new RunTransition { Status = RunStatus.Completed }, At = at };
        yield return new RunUpdate { Transition = new RunTransition { DueAt = at }, At = at };
        yield return new RunUpdate { Transition = new RunTransition { WaitsForSignals = ["go"] }, At = at };
        yield return new RunUpdate { Transition = released with { SignalPayloadKinds = "{}" }, At = at };
        yield return new RunUpdate { Transition = released with { Status = RunStatus.Blocked, NotifyParent = new ParentNotice("p", "keel.child/1", "{}") }, At = at };
        yield return new RunUpdate { Transition = released, ContinueAs = new NewRun { RunId = "next", WorkflowName = "w", Input = "{}", CreatedAt = at }, At = at };
        yield return new RunUpdate { Recovery = new RecoveryChange { Failed = true }, At = at };
        yield return new RunUpdate { Transition = released, Recovery = new RecoveryChange { Failed = true, Recovered = true }, At = at };
    }

    [Fact]
    public async Task Append_WithAnUpdateThatBreaksARule_ThrowsArgumentException_AndWritesNothing()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        await store.SendSignalAsync(new NewSignal { RunId = "r", Name = "go", SentAt = T0 }, Token);
        var claim = Assert.Single(await ClaimAsync(store, "a", T0));
        var signal = Assert.Single(await store.GetSignalsAsync("r", Token));
        foreach (var update in UpdatesThatBreakARule(T0.AddSeconds(1)))
        {
            // Carrying an entry and an inbox change too: none of it may be written.
            var withMore = update with { Inbox = new InboxChange { ConsumedSignals = [signal.Id] } };
            await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync(claim.Lease, [Entry(1, "one")], withMore, Token));
        }

        Assert.Empty(await store.GetJournalAsync("r", Token));
        Assert.Single(await store.GetSignalsAsync("r", Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Null(run.Result);
        Assert.Null(run.Error);
        Assert.Equal(1, await CountRunsAsync()); // no successor
        Assert.True(await store.AppendAsync(claim.Lease, [Entry(1, "one")], null, Token)); // the lease still holds
        Assert.Equal(0, Assert.Single(await store.GetJournalAsync("r", Token)).Index);
    }

    [Fact]
    public async Task Append_WithTheEngineShapes_IsAccepted_AndAnErrorWithoutAStatusIsKept()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.RecordRecoveryPoint("p", T0), Token));
        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.MarkRecovered(T0), Token));
        Assert.True(await store.AppendAsync(claim.Lease, [], new RunUpdate { Transition = new RunTransition { Error = new ErrorInfo("E", "kept", null) }, At = T0 }, Token));
        var emptyGroups = new RunUpdate
        {
            Transition = new RunTransition(), Inbox = new InboxChange { ConsumedSignals = [] }, Approvals = new ApprovalChange(), Recovery = new RecoveryChange(), At = T0,
        };
        Assert.True(await store.AppendAsync(claim.Lease, [], emptyGroups, Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal((RunStatus.Running, "kept"), (run.Status, run.Error?.Message));
        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.HandBack(T0.AddSeconds(1)), Token));
        Assert.Equal("r", Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(1))).Run.RunId);
    }
}
