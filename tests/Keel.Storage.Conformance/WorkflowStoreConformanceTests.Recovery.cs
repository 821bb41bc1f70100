using Keel.Storage;

namespace Keel.Storage.Conformance;

/// <summary>The recovery change (<see cref="RecoveryChange"/>) and the blame it clears or charges at claims.</summary>
public abstract partial class WorkflowStoreConformanceTests
{
    [Fact]
    public async Task Claims_ChargeAWorkersDeathOnlyToTheSuspectItHeldAlone_AndProgressClearsTheBlame()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var first = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.False(first.Alone);
        Assert.Equal(0, first.Run.RecoveryAttempts);

        // "a" dies holding it: taken over as usual, nothing charged (a death of a busy process is nobody's in particular).
        var second = Assert.Single(await ClaimAsync(store, "b", T0.AddMinutes(1)));
        Assert.False(second.Alone);
        Assert.Equal(0, second.Run.RecoveryAttempts);
        Assert.True(await store.AppendAsync(second.Lease, [], new RunUpdate { Transition = new RunTransition { Error = new ErrorInfo("E", "m", null) }, At = T0.AddMinutes(1) }, Token));

        // "b" dies too before any progress: the run is suspect, and only a claim that runs it alone takes it.
        Assert.Empty(await ClaimAsync(store, "c", T0.AddMinutes(2)));
        var third = Assert.Single(await ClaimAloneAsync(store, "c", T0.AddMinutes(2)));
        Assert.True(third.Alone);
        Assert.Equal(0, third.Run.RecoveryAttempts);
        Assert.True(await store.AppendAsync(third.Lease, [], RunUpdate.RecordRecoveryPoint("point-1", T0.AddMinutes(2)), Token));

        // "c" dies while it ran the run alone, its code begun (it recorded where it was): that death is the run's.
        var fourth = Assert.Single(await ClaimAloneAsync(store, "d", T0.AddMinutes(3)));
        Assert.True(fourth.Alone);
        Assert.Equal(1, fourth.Run.RecoveryAttempts);
        Assert.Equal("point-1", fourth.RecoveryPoint);

        // "d" dies before the run's code ran at all (still starting up): that says nothing about the run.
        var fifth = Assert.Single(await ClaimAloneAsync(store, "e", T0.AddMinutes(4)));
        Assert.Equal(1, fifth.Run.RecoveryAttempts);
        Assert.True(await store.AppendAsync(fifth.Lease, [], RunUpdate.RecordRecoveryPoint("point-2", T0.AddMinutes(4)), Token));
        var sixth = Assert.Single(await ClaimAloneAsync(store, "f", T0.AddMinutes(5)));
        Assert.Equal(2, sixth.Run.RecoveryAttempts);
        Assert.Equal("point-2", sixth.RecoveryPoint);

        // Progress clears it all: the next takeover is an ordinary one again.
        Assert.True(await store.AppendAsync(sixth.Lease, [Entry(1, "one")], null, Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal(0, run.RecoveryAttempts);
        var seventh = Assert.Single(await ClaimAsync(store, "g", T0.AddMinutes(6)));
        Assert.False(seventh.Alone);
        Assert.Null(seventh.RecoveryPoint);
        Assert.Equal(0, seventh.Run.RecoveryAttempts);
    }

    [Fact]
    public async Task Claims_ACleanReleaseOrRecoveredClearsTheBlame_AndAFailedRecoveryIsCharged()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        _ = Assert.Single(await ClaimAsync(store, "a", T0));
        var b = Assert.Single(await ClaimAsync(store, "b", T0.AddMinutes(1))); // "a" died: interrupted once
        Assert.True(await store.AppendAsync(b.Lease, [], RunUpdate.HandBack(T0.AddMinutes(1)), Token)); // handed back cleanly
        _ = Assert.Single(await ClaimAsync(store, "c", T0.AddMinutes(1)));
        var d = Assert.Single(await ClaimAsync(store, "d", T0.AddMinutes(2))); // "c" died: interrupted once again, not twice
        Assert.False(d.Alone);

        var e = Assert.Single(await ClaimAloneAsync(store, "e", T0.AddMinutes(3))); // "d" died: suspect
        Assert.True(e.Alone);
        Assert.True(await store.AppendAsync(e.Lease, [], RunUpdate.MarkRecovered(T0.AddMinutes(3)), Token)); // only waits now
        var f = Assert.Single(await ClaimAsync(store, "f", T0.AddMinutes(4))); // "e" died after that: not charged, not suspect
        Assert.False(f.Alone);
        Assert.Equal(0, f.Run.RecoveryAttempts);

        // Its code threw during replay (no process died): charged, released for a backoff, still claimed as usual.
        Assert.True(await store.AppendAsync(f.Lease, [], RunUpdate.FailRecovery(new ErrorInfo("E", "replay threw", null), T0.AddMinutes(5), T0.AddMinutes(4)), Token));
        Assert.Empty(await ClaimAsync(store, "g", T0.AddMinutes(4)));
        var g = Assert.Single(await ClaimAsync(store, "g", T0.AddMinutes(5)));
        Assert.False(g.Alone);
        Assert.Equal(1, g.Run.RecoveryAttempts);
        Assert.Equal("replay threw", g.Run.Error?.Message);
    }

    [Fact]
    public async Task ClaimAlone_TakesAtMostOneSuspect_ChargedMostFirst_BesideOrdinaryRuns()
    {
        var store = await OpenAsync();
        // "late" becomes suspect and is charged once: its holders die twice, then one that ran it alone dies too.
        await CreateAsync(store, "late", T0.AddSeconds(1));
        _ = await ClaimAsync(store, "a", T0.AddSeconds(1));
        _ = await ClaimAsync(store, "b", T0.AddMinutes(1));
        var c = Assert.Single(await ClaimAloneAsync(store, "c", T0.AddMinutes(2)));
        Assert.True(c.Alone);
        Assert.True(await store.AppendAsync(c.Lease, [], RunUpdate.RecordRecoveryPoint("c", T0.AddMinutes(2)), Token));
        var d = Assert.Single(await ClaimAloneAsync(store, "d", T0.AddMinutes(3)));
        Assert.Equal(1, d.Run.RecoveryAttempts);
        Assert.True(await store.AppendAsync(d.Lease, [], RunUpdate.RecordRecoveryPoint("d", T0.AddMinutes(3)), Token));
        // "early" (due before it) becomes suspect without a charge; two ordinary runs wait beside them.
        await CreateAsync(store, "early", T0);
        _ = await ClaimAsync(store, "e", T0.AddMinutes(3));
        _ = await ClaimAsync(store, "f", T0.AddMinutes(4));
        await CreateAsync(store, "ok1", T0.AddMinutes(5));
        await CreateAsync(store, "ok2", T0.AddMinutes(5).AddSeconds(1));

        var taken = await ClaimAloneAsync(store, "g", T0.AddMinutes(6));
        Assert.Equal(3, taken.Count); // one suspect and both ordinary runs; the other suspect waits for the next alone slot
        var suspect = Assert.Single(taken, c => c.Alone);
        Assert.Equal("late", suspect.Run.RunId); // charged before, so first, though due later
        Assert.Equal(2, suspect.Run.RecoveryAttempts);
        Assert.Equal(["ok1", "ok2"], taken.Where(c => !c.Alone).Select(c => c.Run.RunId).Order());
        var other = Assert.Single(await ClaimAloneAsync(store, "h", T0.AddMinutes(6)));
        Assert.Equal("early", other.Run.RunId);
        Assert.True(other.Alone);
        Assert.Equal(0, other.Run.RecoveryAttempts);
    }

    [Fact]
    public async Task Unblock_JournalsWhoAndWhy_MakesTheRunRunnableAsASuspect_AndRefusesOtherStates()
    {
        var store = await OpenAsync();
        await CreateAsync(store, "r");
        var held = Assert.Single(await ClaimAsync(store, "a", T0));
        Assert.True(await store.AppendAsync(held.Lease, [Entry(1, "one")], null, Token));
        Assert.True(await store.AppendAsync(held.Lease, [new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunBlocked, Name = "w", RecordedAt = T0 }],
            RunUpdate.Finish(RunStatus.Blocked, T0, error: new ErrorInfo("E", "m", null), reason: "nondeterminism"), Token));
        Assert.Empty(await ClaimAloneAsync(store, "b", T0.AddSeconds(1))); // Blocked: nobody takes it

        Assert.Equal(UnblockOutcome.Unblocked, await store.UnblockAsync("r", "{\"by\":\"ada\",\"reason\":\"v1 is back\"}", T0.AddSeconds(2), Token));
        var run = (await store.GetRunAsync("r", Token))!;
        Assert.Equal(RunStatus.Pending, run.Status);
        Assert.Null(run.StatusReason);
        Assert.Null(run.Error);
        Assert.Equal(0, run.RecoveryAttempts);
        var journal = await store.GetJournalAsync("r", Token);
        Assert.Equal([JournalEntryKind.StepCompleted, JournalEntryKind.RunBlocked, JournalEntryKind.RunUnblocked], journal.Select(e => e.Kind));
        Assert.Equal([0L, 1, 2], journal.Select(e => e.Index));
        Assert.Equal("{\"by\":\"ada\",\"reason\":\"v1 is back\"}", journal[^1].Payload);
        Assert.Equal(T0.AddSeconds(2), journal[^1].RecordedAt);

        Assert.Equal(UnblockOutcome.NotBlocked, await store.UnblockAsync("r", "{}", T0.AddSeconds(2), Token));
        Assert.Empty(await ClaimAsync(store, "b", T0.AddSeconds(2))); // suspect: run alone first
        var alone = Assert.Single(await ClaimAloneAsync(store, "b", T0.AddSeconds(2)));
        Assert.True(alone.Alone);
        Assert.Equal(3, alone.JournalLength ?? 3);
        Assert.Equal(UnblockOutcome.NotFound, await store.UnblockAsync("nobody", "{}", T0, Token));
        Assert.True(await store.AppendAsync(alone.Lease, [], RunUpdate.Finish(RunStatus.Completed, T0.AddSeconds(3)), Token));
        Assert.Equal(UnblockOutcome.AlreadyFinished, await store.UnblockAsync("r", "{}", T0.AddSeconds(4), Token));
    }
}
