using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The run transition (<see cref="RunTransition"/>): status, lease release, result, error, reason, due time, awaited signals and their payload kinds, parent notice.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Append_AfterLeaseWasTakenOver_IsRefusedAndWritesNothing()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var a = (await ClaimAsync(store, "worker-a", T0)).Single();
        Assert.True(await store.AppendAsync(a.Lease, [Entry(1, "one")], null, Token));

        Assert.Empty(await ClaimAsync(store, "worker-b", T0.AddSeconds(10))); // lease still valid
        var b = (await ClaimAsync(store, "worker-b", T0.AddSeconds(31))).Single(); // expired: B takes over
        Assert.True(b.Lease.Epoch > a.Lease.Epoch);

        Assert.False(await store.AppendAsync(a.Lease, [Entry(2, "stale")], null, Token));
        Assert.False(await store.AppendAsync(a.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0), Token));
        Assert.True(await store.AppendAsync(b.Lease, [Entry(2, "two")], null, Token));
        var renewal = await store.RenewLeasesAsync("worker-a", [a.Lease], T0.AddMinutes(5), Token);
        Assert.Equal(["r"], renewal.Lost);
        Assert.Equal(["one", "two"], (await store.GetJournalAsync("r", Token)).Select(e => e.Name));
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync("r", Token))!.Status);
    }

    [Fact]
    public async Task Create_HeldThenReleasedWithoutProgress_IsClaimableAtOnce()
    {
        var store = await OpenAsync();
        var created = await CreateHeldAsync(store, "r", "worker-a");
        Assert.True(await store.AppendAsync(created.Lease!, [], RunUpdate.HandBack(T0.AddSeconds(1)), Token));
        var b = (await ClaimAsync(store, "worker-b", T0.AddSeconds(1))).Single();
        Assert.Equal(2, b.Lease.Epoch);
        Assert.Equal(0, b.JournalLength ?? 0);
    }

    [Fact]
    public async Task Append_WithTerminalUpdate_FinishesRunAndReleasesLease()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        var done = RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(1), result: "42");
        Assert.True(await store.AppendAsync(claim.Lease, [Entry(0, "w") with { Kind = JournalEntryKind.RunCompleted }], done, Token));
        var run = await store.GetRunAsync("r", Token);
        Assert.Equal(RunStatus.Completed, run!.Status);
        Assert.Equal("42", run.Result);
        Assert.Equal(T0.AddSeconds(1), run.CompletedAt);
        Assert.Equal(T0.AddSeconds(1), run.UpdatedAt);
        Assert.Null(run.Owner);
        Assert.Empty(await ClaimAsync(store, "b", T0.AddHours(1)));
        Assert.Empty(await store.GetLeaseOwnersAsync(Token));
    }

    [Fact]
    public async Task Append_ReleaseAsWaiting_IsClaimableOnlyWhenDue_AndBlockedNever()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "wait");
        await CreateAsync(store, "block");
        var claims = await ClaimAsync(store, "a", T0);
        var wait = claims.Single(c => c.Run.RunId == "wait");
        var block = claims.Single(c => c.Run.RunId == "block");
        Assert.True(await store.AppendAsync(wait.Lease, [], RunUpdate.ReleaseToWait(RunStatus.Waiting, T0.AddSeconds(10), null, null, null, T0), Token));
        Assert.True(await store.AppendAsync(block.Lease, [], RunUpdate.Finish(RunStatus.Blocked, T0, error: new ErrorInfo("X", "bad", null), reason: "nondeterminism"), Token));
        Assert.Equal(RunStatus.Waiting, (await store.GetRunAsync("wait", Token))!.Status);
        var blocked = await store.GetRunAsync("block", Token);
        Assert.Equal(RunStatus.Blocked, blocked!.Status);
        Assert.Equal("nondeterminism", blocked.StatusReason);
        Assert.Equal("bad", blocked.Error!.Message);
        Assert.Null(blocked.CompletedAt);

        Assert.Empty(await ClaimAsync(store, "b", T0.AddSeconds(5)));
        var again = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(10)));
        Assert.Equal("wait", again.Run.RunId);
        Assert.Equal(RunStatus.Running, again.Run.Status);
        Assert.True(again.Lease.Epoch > wait.Lease.Epoch);
        // A day later b's lease on "wait" has lapsed, so it may be taken over; "block" never is.
        Assert.DoesNotContain(await ClaimAsync(store, "c", T0.AddDays(1)), c => c.Run.RunId == "block");
    }

    [Fact]
    public async Task ReleaseWaitingForSignal_IsNotDueUntilOneOfItsNamesArrives()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        Assert.True(await store.AppendAsync(claim.Lease, [], ReleaseWaitingFor(T0, "approve"), Token));
        Assert.Empty(await ClaimAsync(store, "b", T0.AddDays(365)));

        Assert.Equal(SignalOutcome.Stored, await SignalAsync(store, "r", "unrelated", "1", T0.AddSeconds(5)));
        Assert.Empty(await ClaimAsync(store, "b", T0.AddDays(365)));
        Assert.Equal(SignalOutcome.Stored, await SignalAsync(store, "r", "approve", "2", T0.AddSeconds(6)));
        var woken = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(6)));
        Assert.Equal("r", woken.Run.RunId);
    }

    [Fact]
    public async Task ReleaseWaitingForSignal_ThatIsAlreadyInTheInbox_IsDueAtOnce()
    {
        // The race a release must not lose: the signal arrived after the worker last looked, before it let go.
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        Assert.Equal(SignalOutcome.StoredHeld, await SignalAsync(store, "r", "approve", "1", T0.AddSeconds(1)));
        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.ReleaseToWait(RunStatus.Waiting, T0.AddDays(1), ["approve"], null, null, T0.AddSeconds(2)), Token));
        var woken = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)));
        Assert.Equal("r", woken.Run.RunId);
    }

    [Fact]
    public async Task Release_OfARunWhoseCancelWasRequestedWhileHeld_IsDueAtOnce()
    {
        // The race a release must not lose: a cancel arrived while the worker held the run, and the worker let go before
        // it saw the flag. Released as "waiting for a signal", the run would sit there with its cancel never delivered.
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = (await ClaimAsync(store, "a", T0)).Single();
        Assert.Equal(CancelOutcome.Requested, await store.RequestCancelAsync("r", "no longer needed", T0.AddSeconds(1), Token));
        Assert.True(await store.AppendAsync(claim.Lease, [], ReleaseWaitingFor(T0.AddSeconds(2), "approve"), Token));
        var woken = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)));
        Assert.Equal("r", woken.Run.RunId);
        Assert.True(woken.Run.CancelRequested);
    }

    [Fact]
    public async Task ParentWaitingForAChildThatNeedsAPersonOrIsBlocked_SaysSo_UntilTheChildGoesOn()
    {
        var store = await ParentWaitingForItsChildAsync();
        Assert.Null((await store.GetRunAsync("parent", Token))!.StuckChild);
        var child = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(1)));
        Assert.True(await store.AppendAsync(child.Lease, [], RunUpdate.ReleaseToWait(RunStatus.NeedsAttention, null, ["keel.resolve/1/1"], null, "outcome unknown", T0.AddSeconds(1)), Token));
        var parent = (await store.GetRunAsync("parent", Token))!;
        Assert.Equal(new StuckChildRun("parent.1", RunStatus.NeedsAttention, "outcome unknown"), parent.StuckChild);
        Assert.Equal(parent.StuckChild, Assert.Single(await store.GetRunsAsync(["parent", "nobody"], Token)).StuckChild);
        Assert.Equal(parent.StuckChild, (await store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Waiting] }, Token)).Runs.Single().StuckChild);
        Assert.Contains("which is NeedsAttention: outcome unknown", parent.StuckChild!.ToString(), StringComparison.Ordinal);

        // The child is resolved and goes on: the parent waits plainly again; blocked, it says so.
        Assert.True(await store.SendSignalAsync(new NewSignal { RunId = "parent.1", Name = "keel.resolve/1/1", SentAt = T0.AddSeconds(2) }, Token) is SignalOutcome.Stored);
        var again = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)));
        Assert.Null((await store.GetRunAsync("parent", Token))!.StuckChild);
        Assert.True(await store.AppendAsync(again.Lease, [], RunUpdate.Finish(RunStatus.Blocked, T0.AddSeconds(3), error: new ErrorInfo("E", "m", null), reason: "quarantined"), Token));
        Assert.Equal(new StuckChildRun("parent.1", RunStatus.Blocked, "quarantined"), (await store.GetRunAsync("parent", Token))!.StuckChild);
    }

    [Fact]
    public async Task SendSignal_ToARunReleasedWaitingForIt_RefusesAPayloadOfAKindItsWaitCannotRead_AndStoresNothing()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var claim = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.True(await store.AppendAsync(claim.Lease, [], RunUpdate.ReleaseToWait(RunStatus.Waiting, null, ["go", "note"],
            StoreJson.SignalKinds(new Dictionary<string, IReadOnlyList<string>> { ["go"] = ["object", "null"] }), null, T0), Token));
        NewSignal Signal(string name, string? payload) => new() { RunId = "r", Name = name, Payload = payload, SentAt = T0.AddSeconds(1) };

        Assert.Equal(SignalOutcome.Refused, await store.SendSignalAsync(Signal("go", "\"a string\""), Token));
        Assert.Equal(SignalOutcome.Refused, await store.SendSignalAsync(Signal("go", " [1, 2]"), Token));
        Assert.Empty(await store.GetSignalsAsync("r", Token));
        Assert.Empty(await ClaimAsync(store, "b", T0.AddSeconds(1))); // not woken by what was refused
        Assert.Equal(SignalOutcome.Stored, await store.SendSignalAsync(Signal("note", "42"), Token)); // no kinds kept for this name
        Assert.Equal(SignalOutcome.Stored, await store.SendSignalAsync(Signal("go", null), Token)); // no payload
        Assert.Equal(SignalOutcome.Stored, await store.SendSignalAsync(Signal("go", "{\"ok\":true}"), Token));
        Assert.Equal(3, (await store.GetSignalsAsync("r", Token)).Count);

        // Held by a worker again, the run's waits may have moved on: only its wait decides.
        var held = Assert.Single(await ClaimAsync(store, "b", T0.AddSeconds(2)));
        Assert.Equal(SignalOutcome.StoredHeld, await store.SendSignalAsync(Signal("go", "\"a string\"") with { SentAt = T0.AddSeconds(2) }, Token));
        Assert.True(await store.AppendAsync(held.Lease, [], ReleaseWaitingFor(T0.AddSeconds(3), "go"), Token)); // released without kinds
        Assert.Equal(SignalOutcome.Stored, await store.SendSignalAsync(Signal("go", "7") with { SentAt = T0.AddSeconds(3) }, Token));
    }
}
