using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The approval change (<see cref="ApprovalChange"/>): approvals opened and closed with their entries.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Approvals_AreListedOldestFirst_DecidedOnce_AndClosedWithTheirEntry()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "late", T0);
        await CreateAsync(store, "early", T0);
        var claims = await ClaimAsync(store, "a", T0);
        const string Request = """{"title":"Refund 5","arguments":{"amount":5},"options":["full","half"]}""";
        foreach (var (claim, at) in new[] { (claims.Single(c => c.Run.RunId == "late"), T0.AddSeconds(2)), (claims.Single(c => c.Run.RunId == "early"), T0.AddSeconds(1)) })
        {
            var requested = new JournalEntry { Sequence = 3, Kind = JournalEntryKind.ApprovalRequested, Name = "refund", RecordedAt = at, Payload = Request };
            var opened = new ApprovalRecord { Sequence = 3, Name = "refund", Request = Request, RequestedAt = at, Deadline = at.AddDays(1) };
            Assert.True(await store.AppendAsync(claim.Lease, [requested], new RunUpdate { Approvals = new ApprovalChange { Opened = [opened] }, At = at }, Token));
        }
        await CreateAsync(store, "busy", T0); // no approval: nobody is waited for
        async Task<IEnumerable<string>> WaitingForPersonAsync() =>
            (await store.ListRunsAsync(new RunQuery { WaitingForPerson = true }, Token)).Runs.Select(r => r.RunId).Order(StringComparer.Ordinal);
        Assert.Equal(["early", "late"], await WaitingForPersonAsync());
        var pending = await store.ListPendingApprovalsAsync(null, 10, Token);
        Assert.Equal(["early", "late"], pending.Select(p => p.RunId));
        Assert.Equal("Refund 5", pending[0].Title);
        Assert.Equal(["full", "half"], pending[0].Options);
        Assert.Equal(T0.AddSeconds(1), pending[0].RequestedAt);
        Assert.Equal("w", pending[0].WorkflowName);
        Assert.Equal(["late"], (await store.ListPendingApprovalsAsync("late", 10, Token)).Select(p => p.RunId));

        Assert.Equal(DecideOutcome.DecidedHeld, await store.DecideApprovalAsync("early", 3, "keel.approval/3", "{}", T0.AddSeconds(3), Token));
        Assert.Equal(DecideOutcome.AlreadyDecided, await store.DecideApprovalAsync("early", 3, "keel.approval/3", "{}", T0.AddSeconds(4), Token));
        Assert.Equal(DecideOutcome.NotPending, await store.DecideApprovalAsync("early", 9, "keel.approval/9", "{}", T0.AddSeconds(4), Token));
        Assert.Equal(DecideOutcome.NotPending, await store.DecideApprovalAsync("missing", 3, "keel.approval/3", "{}", T0.AddSeconds(4), Token));
        Assert.Equal(["late"], (await store.ListPendingApprovalsAsync(null, 10, Token)).Select(p => p.RunId));
        Assert.Equal(["late"], await WaitingForPersonAsync()); // decided: its worker takes it on
        Assert.Equal("keel.approval/3", Assert.Single(await store.GetSignalsAsync("early", Token)).Name);

        var late = claims.Single(c => c.Run.RunId == "late");
        Assert.True(await store.AppendAsync(late.Lease, [], new RunUpdate { Approvals = new ApprovalChange { Closed = [3] }, At = T0.AddSeconds(5) }, Token));
        Assert.Empty(await store.ListPendingApprovalsAsync(null, 10, Token));
    }
}
