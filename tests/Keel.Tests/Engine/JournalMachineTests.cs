using Keel.Engine;
using Keel.Storage;

namespace Keel.Tests.Engine;

/// <summary>The journal state machine alone: entries and requests in, decisions out. No store, no threads, no clock.</summary>
public class JournalMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void FreshRun_IsLive_AndAdmitsEveryKindAtNewPositions()
    {
        var machine = new JournalMachine("r", T0, []);
        Assert.False(machine.IsReplaying);
        var kinds = new[] { OperationKind.Step, OperationKind.Timer, OperationKind.Signal, OperationKind.Approval, OperationKind.ChildRun };
        for (var i = 0; i < kinds.Length; i++)
        {
            var position = machine.Admit(kinds[i], $"op{i}");
            Assert.NotNull(position);
            Assert.Equal(i + 1, position.Sequence);
            Assert.Null(position.First);
        }
        Assert.Equal(ReplayAction.Done, machine.NextReplay(false, null).Action);
        Assert.Equal(T0, machine.Clock);
    }

    [Fact]
    public void Replay_DeliversRecordedOutcomesInJournalOrder_NotPositionOrder_AndTheClockNeverGoesBack()
    {
        // Live, two parallel steps completed in the order 2, 1 (WhenAll/WhenAny see that order again on replay).
        var machine = new JournalMachine("r", T0, [Completed(2, "b", T0.AddSeconds(5)), Completed(1, "a", T0.AddSeconds(3))]);
        Assert.True(machine.IsReplaying);
        var a = Add(machine, OperationKind.Step, "a");
        var b = Add(machine, OperationKind.Step, "b");

        var first = machine.NextReplay(false, null);
        Assert.Equal((ReplayAction.Deliver, 2), (first.Action, first.Operation!.Sequence));
        Deliver(machine, first);
        Assert.Equal(T0.AddSeconds(5), machine.Clock);
        var second = machine.NextReplay(false, null);
        Assert.Same(a, second.Operation);
        Deliver(machine, second);
        Assert.Equal(T0.AddSeconds(5), machine.Clock); // the earlier-stamped outcome does not move time back
        Assert.Equal(ReplayAction.Done, machine.NextReplay(false, null).Action);
        Assert.Equal(["b", "a"], machine.JournalSoFar().Select(e => e.Name));
        Assert.Equal(["b"], b.Delivered.Select(e => e.Name));
        Assert.Empty(machine.Pending);
        Assert.True(machine.IsReplaying); // until the executor says the replay is over
        machine.EndReplay();
        Assert.False(machine.IsReplaying);
    }

    public static TheoryData<JournalEntryKind, OperationKind> RecordedKinds => new()
    {
        { JournalEntryKind.StepCompleted, OperationKind.Timer },
        { JournalEntryKind.StepFailed, OperationKind.Signal },
        { JournalEntryKind.StepAttemptFailed, OperationKind.Approval },
        { JournalEntryKind.StepStarted, OperationKind.ChildRun },
        { JournalEntryKind.StepNeedsAttention, OperationKind.Timer },
        { JournalEntryKind.StepResolved, OperationKind.Signal },
        { JournalEntryKind.TimerFired, OperationKind.Step },
        { JournalEntryKind.SignalReceived, OperationKind.Step },
        { JournalEntryKind.SignalTimedOut, OperationKind.Approval },
        { JournalEntryKind.ApprovalRequested, OperationKind.Signal },
        { JournalEntryKind.ApprovalDecided, OperationKind.Step },
        { JournalEntryKind.ChildStarted, OperationKind.Step },
        { JournalEntryKind.ChildCompleted, OperationKind.Timer },
        { JournalEntryKind.ChildFailed, OperationKind.Signal },
    };

    [Theory]
    [MemberData(nameof(RecordedKinds))]
    public void AnotherKindOfOperation_AtARecordedPosition_IsNondeterminism(JournalEntryKind recorded, OperationKind asked)
    {
        var payload = recorded == JournalEntryKind.StepResolved
            ? new StepResolutionData(StepResolutionAction.Retry, null, null, "alice", T0).ToJson()
            : null;
        var machine = new JournalMachine("r", T0, [Entry(1, recorded, "x", payload: payload)]);
        Assert.Null(machine.Admit(asked, "x"));
        var error = machine.Nondeterminism!;
        Assert.Equal(1, error.Sequence);
        Assert.Equal($"{JournalKinds.Noun(JournalKinds.OperationOf(recorded))} 'x'", error.Recorded);
        Assert.Equal($"{JournalKinds.Noun(asked)} 'x'", error.Requested);

        // The same kind under the same name is admitted, with what the journal holds there.
        var again = new JournalMachine("r", T0, [Entry(1, recorded, "x", payload: payload)]);
        var position = again.Admit(JournalKinds.OperationOf(recorded), "x");
        Assert.NotNull(position);
        Assert.Equal(recorded, position.First!.Kind);
        Assert.Null(again.Nondeterminism);
    }

    [Fact]
    public void ARenamedOperation_IsNondeterminism_AndTheFirstOneFoundIsKept()
    {
        var machine = new JournalMachine("r", T0, [Completed(1, "search", T0), Completed(2, "summarize", T0)]);
        Assert.Null(machine.Admit(OperationKind.Step, "lookup"));
        Assert.Null(machine.Admit(OperationKind.Step, "digest"));
        Assert.Equal(1, machine.Nondeterminism!.Sequence);
        Assert.Contains("the journal recorded step 'search', but the workflow code now asks for step 'lookup'", machine.Nondeterminism.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARecordedOutcome_NothingWaitsFor_BlocksTheRun_SayingWhatTheCodeWaitsOn()
    {
        var machine = new JournalMachine("r", T0, [Completed(1, "a", T0), Completed(3, "c", T0)]);
        var a = Add(machine, OperationKind.Step, "a");
        Deliver(machine, machine.NextReplay(false, null));
        Add(machine, OperationKind.Timer, "nap");

        var step = machine.NextReplay(false, null);
        Assert.Equal(ReplayAction.Block, step.Action);
        Assert.Equal(3, step.Nondeterminism!.Sequence);
        Assert.Contains("nothing at that position (the code is waiting on timer 'nap' at position 2)", step.Nondeterminism.Message, StringComparison.Ordinal);
        Assert.Single(a.Delivered);
    }

    [Fact]
    public void ARecordedOutcome_AfterTheCodeReturned_OrThrew_IsSaidSo()
    {
        var returned = new JournalMachine("r", T0, [Completed(1, "a", T0)]);
        var step = returned.NextReplay(codeReturned: true, codeFault: null);
        Assert.Equal(ReplayAction.Block, step.Action);
        Assert.Contains("the workflow code returned before reaching it", step.Nondeterminism!.Message, StringComparison.Ordinal);

        var threw = new JournalMachine("r", T0, [Completed(1, "a", T0)]);
        var fault = new InvalidOperationException("boom");
        var faulted = threw.NextReplay(codeReturned: true, codeFault: fault);
        Assert.Equal(ReplayAction.Fault, faulted.Action);
        Assert.Same(fault, faulted.Fault);
    }

    [Fact]
    public void StepRecords_FoldIntoTheStep_AndAreNotDelivered()
    {
        var started = T0.AddSeconds(1);
        var machine = new JournalMachine("r", T0,
        [
            Entry(1, JournalEntryKind.StepAttemptFailed, "pay", attempt: 1, error: new ErrorInfo("Http", "503"), retryAt: T0.AddSeconds(2)),
            Entry(1, JournalEntryKind.StepStarted, "pay", attempt: 2, startedAt: started),
            Entry(1, JournalEntryKind.StepNeedsAttention, "pay", payload:
                "Outcome unknown: the process stopped while 'pay' was running (attempt 2). Resolve it: keel resolve r --retry | --complete-with JSON | --fail REASON."),
        ]);
        Assert.False(machine.IsReplaying); // nothing to deliver
        var position = machine.Admit(OperationKind.Step, "pay")!;
        Assert.Equal("503", Assert.Single(position.Step.Failures).Error.Message);
        Assert.Equal(2, position.Step.UnknownAttempt!.Attempt);
        Assert.Equal(1, position.Step.AttentionCount);
        var reason = AttentionReason.FromEntry(position.Step.Attention!);
        Assert.Equal(AttentionKind.Unspecified, reason.Kind);
        Assert.DoesNotContain("keel resolve", reason.ToString(), StringComparison.Ordinal); // old journals keep reading, without the CLI syntax
    }

    [Fact]
    public void AResolutionToRetry_CountsTheUnknownAttemptAsFailed()
    {
        var resolution = new StepResolutionData(StepResolutionAction.Retry, null, "no such invoice", "alice", T0.AddMinutes(1));
        var machine = new JournalMachine("r", T0,
        [
            Entry(1, JournalEntryKind.StepStarted, "send", attempt: 1, startedAt: T0),
            Entry(1, JournalEntryKind.StepNeedsAttention, "send", payload: new AttentionReason { Kind = AttentionKind.OutcomeUnknown, Step = "send", Position = 1, Attempt = 1 }.ToJson()),
            Entry(1, JournalEntryKind.StepResolved, "send", payload: resolution.ToJson()),
        ]);
        var step = machine.Admit(OperationKind.Step, "send")!.Step;
        Assert.Null(step.UnknownAttempt);
        Assert.Null(step.Attention);
        var failure = Assert.Single(step.Failures);
        Assert.Equal("Keel.OutcomeUnknown", failure.Error.Type);
        Assert.Contains("decision of alice: no such invoice", failure.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASignalSetAside_IsKnownAtItsPosition_AndTheWaitGoesOn()
    {
        var machine = new JournalMachine("r", T0, [Entry(1, JournalEntryKind.SignalRejected, "answer", payload: "\"text\"")]);
        Assert.False(machine.IsReplaying);
        var position = machine.Admit(OperationKind.Signal, "answer")!;
        Assert.Null(position.First);
        Assert.Equal("\"text\"", position.LastRejection!.Payload);
    }

    [Fact]
    public void ARecordedCancellation_IsDeliveredInItsPlace_EndingAllButCleanupOperations()
    {
        var machine = new JournalMachine("r", T0, [Completed(1, "a", T0), Entry(0, JournalEntryKind.CancelRequested, "cancel", recordedAt: T0.AddSeconds(9))]);
        Assert.True(machine.HasCancel);
        Add(machine, OperationKind.Step, "a");
        Deliver(machine, machine.NextReplay(false, null));
        var work = Add(machine, OperationKind.Step, "work");
        var cleanup = Add(machine, OperationKind.Step, "undo", cleanup: true);

        var step = machine.NextReplay(false, null);
        Assert.Equal(ReplayAction.Cancel, step.Action);
        var ended = machine.Cancel(step.Entry!.RecordedAt);
        Assert.Same(work, Assert.Single(ended));
        Assert.True(machine.IsCancelled);
        Assert.Equal([cleanup.Sequence], machine.Pending.Keys);
        Assert.Equal(T0.AddSeconds(9), machine.Clock);
    }

    [Fact]
    public void ABatch_IsAppendedOnce_ThenDeliveredInOrder_AndACancellationDropsTheOutcomesAfterIt()
    {
        var machine = new JournalMachine("r", T0, []);
        var first = Add(machine, OperationKind.Step, "first");
        var dropped = Add(machine, OperationKind.Signal, "answer");
        var cleanup = Add(machine, OperationKind.Step, "undo", cleanup: true);
        var record = Entry(1, JournalEntryKind.StepAttemptFailed, "first", attempt: 1);
        var status = new RunCustomStatus("working", null, T0.AddSeconds(1));
        var batch = new List<InboxItem>
        {
            new(InboxItemKind.Outcome, first, Completed(1, "first", T0)),
            new(InboxItemKind.Record, Entry: record),
            new(InboxItemKind.Cancel),
            new(InboxItemKind.Outcome, dropped, Entry(2, JournalEntryKind.SignalReceived, "answer"), ConsumedSignal: 7),
            new(InboxItemKind.Outcome, cleanup, Completed(3, "undo", T0), ConsumedSignal: 8),
            new(InboxItemKind.Status, Status: status),
            InboxItem.Wake,
        };

        var plan = machine.Plan(batch, T0.AddSeconds(2));

        Assert.Equal(
            [JournalEntryKind.StepCompleted, JournalEntryKind.StepAttemptFailed, JournalEntryKind.CancelRequested, JournalEntryKind.StepCompleted],
            plan.Entries.Select(e => e.Kind));
        Assert.Equal([8L], plan.Change!.Inbox!.ConsumedSignals); // the dropped signal stays in the inbox, as replay will see it
        Assert.Equal(status, plan.Change.CustomStatus);
        Assert.Equal(
            [DeliveryAction.Deliver, DeliveryAction.Pump, DeliveryAction.Cancel, DeliveryAction.Pump, DeliveryAction.Deliver, DeliveryAction.Pump, DeliveryAction.Pump],
            plan.Deliveries.Select(d => d.Action));
        Assert.Same(cleanup, plan.Deliveries[4].Operation);
    }

    [Fact]
    public void AnApprovalOpenedAndClosedInOneBatch_NeedsNoPendingRow()
    {
        var machine = new JournalMachine("r", T0, []);
        var approval = Add(machine, OperationKind.Approval, "refund");
        var requested = Entry(1, JournalEntryKind.ApprovalRequested, "refund");
        var plan = machine.Plan(
        [
            new(InboxItemKind.Record, Entry: requested, OpenApproval: new ApprovalRecord { Sequence = 1, Name = "refund", Request = "{}", RequestedAt = T0 }),
            new(InboxItemKind.Outcome, approval, Entry(1, JournalEntryKind.ApprovalDecided, "refund"), ConsumedSignal: 3, ClosedApproval: 1),
        ], T0);
        Assert.Null(plan.Change!.Approvals); // opened and closed in one batch: no approval change at all
        Assert.Equal([3L], plan.Change.Inbox!.ConsumedSignals);
    }

    [Fact]
    public void AnEmptyBatch_WritesNothing()
    {
        var plan = new JournalMachine("r", T0, []).Plan([InboxItem.Wake, InboxItem.CheckSignals], T0);
        Assert.False(plan.WritesAnything);
    }

    [Fact]
    public void TheRunIsReleasable_OnlyWhenEveryOperationWaits_UntilTheEarliestDueTime()
    {
        var machine = new JournalMachine("r", T0, []);
        var timer = Add(machine, OperationKind.Timer, "nap");
        var signal = Add(machine, OperationKind.Signal, "answer");
        Assert.Null(machine.NextDueIfAllWaiting()); // not started yet

        timer.Start(waitingUntil: T0.AddHours(1));
        signal.Start(waitingUntil: null);
        Assert.Null(machine.NextDueIfAllWaiting()); // the signal wait is not waiting yet

        signal.Start(waitingUntil: DateTimeOffset.MaxValue);
        Assert.Equal(T0.AddHours(1), machine.NextDueIfAllWaiting());

        var release = machine.Release(T0.AddHours(1), [new SignalWait("answer", ["object"])], T0);
        Assert.Equal(RunStatus.Waiting, release.Transition!.Status);
        Assert.True(release.Transition!.ReleaseLease);
        Assert.Equal(T0.AddHours(1), release.Transition!.DueAt);
        Assert.Equal(["answer"], release.Transition!.WaitsForSignals!);
        Assert.Contains("object", release.Transition!.SignalPayloadKinds!, StringComparison.Ordinal);
    }

    [Fact]
    public void AStepWaitingForAPerson_ReleasesTheRunAsNeedsAttention_WithItsReason()
    {
        var machine = new JournalMachine("r", T0, []);
        var step = Add(machine, OperationKind.Step, "pay");
        step.Start(waitingUntil: DateTimeOffset.MaxValue);
        step.AttentionNote = "Outcome unknown: …";
        var release = machine.Release(DateTimeOffset.MaxValue, [new SignalWait("keel.resolve/1/1", null), new SignalWait("answer", ["string"]), new SignalWait("answer", ["object"])], T0);
        Assert.Equal(RunStatus.NeedsAttention, release.Transition!.Status);
        Assert.Equal("Outcome unknown: …", release.Transition!.StatusReason);
        Assert.Null(release.Transition!.DueAt);
        Assert.Equal(["keel.resolve/1/1", "answer"], release.Transition!.WaitsForSignals!);
        Assert.DoesNotContain("answer", release.Transition!.SignalPayloadKinds ?? "", StringComparison.Ordinal); // its waits disagree: no early refusal
    }

    [Fact]
    public void Finish_OfAChild_TellsItsParentInTheSameChange()
    {
        var child = new RunInfo { RunId = "p.3", WorkflowName = "w", Status = RunStatus.Running, CreatedAt = T0, ParentRunId = "p", ParentSequence = 3 };
        var (entry, change) = JournalMachine.Finish(child, JournalEntryKind.RunCompleted, RunStatus.Completed, null, null, "42", T0);
        Assert.Equal(JournalEntryKind.RunCompleted, entry.Kind);
        Assert.Equal("keel.child/3", change.Transition!.NotifyParent!.SignalName);
        Assert.Contains("\"result\":\"42\"", change.Transition.NotifyParent.Payload, StringComparison.Ordinal);

        var (next, continued) = JournalMachine.ContinueAsNew(child, "p.3~2", "{}", T0);
        Assert.Equal(JournalEntryKind.RunContinuedAsNew, next.Kind);
        Assert.Equal(("p.3~2", "p", 3), (continued.ContinueAs!.RunId, continued.ContinueAs.ParentRunId, continued.ContinueAs.ParentSequence));
    }

    [Fact]
    public void Version_OnNewGround_TakesTheNewest_AndItsMarkerRidesTheNextBatchThatWritesEntries()
    {
        var machine = new JournalMachine("r", T0, []);
        Assert.Equal((2, null), machine.Version("fix", WorkflowContext.DefaultVersion, 2, T0));
        Assert.Equal(2, machine.Version("fix", WorkflowContext.DefaultVersion, 2, T0).Version); // decided once
        Assert.False(machine.Plan([new(InboxItemKind.Status, Status: new RunCustomStatus("x", null, T0))], T0).Entries.Count > 0); // no commit of its own
        var step = Add(machine, OperationKind.Step, "a");
        var plan = machine.Plan([new(InboxItemKind.Outcome, step, Completed(1, "a", T0))], T0);
        Assert.Equal([JournalEntryKind.VersionMarker, JournalEntryKind.StepCompleted], plan.Entries.Select(e => e.Kind));
        Assert.Equal(("fix", "2"), (plan.Entries[0].Name, plan.Entries[0].Payload));
        Assert.Single(machine.Plan([new(InboxItemKind.Outcome, Add(machine, OperationKind.Step, "b"), Completed(2, "b", T0))], T0).Entries);
    }

    [Fact]
    public void Version_ForARunThatWentPastThePoint_IsTheDefault_AndARecordedOneIsKept()
    {
        var past = new JournalMachine("r", T0, [Completed(1, "a", T0), Completed(2, "b", T0)]);
        Add(past, OperationKind.Step, "a");
        Deliver(past, past.NextReplay(false, null));
        Assert.Equal((WorkflowContext.DefaultVersion, null), past.Version("fix", WorkflowContext.DefaultVersion, 1, T0));

        var recorded = new JournalMachine("r", T0, [Entry(0, JournalEntryKind.VersionMarker, "fix", payload: "1"), Completed(1, "a", T0)]);
        Assert.Equal((1, null), recorded.Version("fix", WorkflowContext.DefaultVersion, 3, T0)); // not the newest: what it took
        Assert.Equal(1, recorded.RecordedVersion("fix"));
    }

    [Fact]
    public void Version_OutsideTheSupportedRange_BlocksTheRun()
    {
        var machine = new JournalMachine("r", T0, [Entry(0, JournalEntryKind.VersionMarker, "fix", payload: "1"), Completed(1, "a", T0)]);
        var (_, error) = machine.Version("fix", 2, 3, T0);
        Assert.Same(machine.Nondeterminism, error);
        Assert.Contains("the journal recorded version 1 of change 'fix', but the workflow code now asks for change 'fix' at version 2 to 3", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARetry_ReopensTheStepWhoseFailureEndedTheRun_AndSetsAsideWhatCameAfter()
    {
        var declined = new ErrorInfo("System.InvalidOperationException", "card declined");
        var machine = new JournalMachine("r", T0,
        [
            Completed(1, "reserve", T0),
            Entry(2, JournalEntryKind.StepAttemptFailed, "charge", attempt: 1, error: declined, retryAt: T0),
            Entry(2, JournalEntryKind.StepFailed, "charge", attempt: 2, error: declined),
            Completed(3, "release", T0), // a compensation, after the failure
            Entry(0, JournalEntryKind.RunFailed, "order", error: declined with { Message = "step 'charge' failed after 2 attempt(s): card declined" }),
            Entry(0, JournalEntryKind.RunRetried, "order", recordedAt: T0.AddMinutes(5), payload: "{}"),
        ]);
        Add(machine, OperationKind.Step, "reserve");
        Deliver(machine, machine.NextReplay(false, null));
        var charge = machine.Admit(OperationKind.Step, "charge")!;
        Assert.Equal(2, charge.Step.Failures.Count); // the final failure is now a failed attempt...
        Assert.Equal(2, charge.Step.BudgetStart); // ...with a fresh budget after it
        Assert.Equal(T0.AddMinutes(5), charge.Step.Failures[^1].RetryAt); // due at the retry
        machine.Add(new FakeOperation(charge.Sequence, "charge", cleanup: false));

        Assert.Equal(ReplayAction.Done, machine.NextReplay(false, null).Action); // 'release' is set aside, not a difference
        Assert.NotNull(machine.Admit(OperationKind.Step, "ship")); // position 3 is new ground again
        Assert.Null(machine.Nondeterminism);
    }

    [Fact]
    public void ARetry_KeepsWhatOperationsBegunBeforeTheFailureRecordedAfterIt_AndAnAtMostOnceAttemptLeftOpen()
    {
        var declined = new ErrorInfo("System.InvalidOperationException", "card declined");
        var machine = new JournalMachine("r", T0,
        [
            Entry(2, JournalEntryKind.StepAttemptFailed, "fetch", attempt: 1, error: new ErrorInfo("E", "slow"), retryAt: T0),
            Entry(1, JournalEntryKind.StepFailed, "charge", attempt: 1, error: declined),
            Completed(2, "fetch", T0), // begun before the failure, ended after it
            Entry(3, JournalEntryKind.StepStarted, "notify", attempt: 1, startedAt: T0), // at most once, left open when the run failed
            Entry(0, JournalEntryKind.RunFailed, "w", error: declined with { Message = "step 'charge' failed after 1 attempt(s): card declined" }),
            Entry(0, JournalEntryKind.RunRetried, "w", payload: "{}"),
        ]);
        var charge = machine.Admit(OperationKind.Step, "charge")!;
        Assert.Single(charge.Step.Failures);
        var fetch = Add(machine, OperationKind.Step, "fetch");
        var step = machine.NextReplay(false, null);
        Assert.Same(fetch, step.Operation); // kept and delivered
        Assert.Equal(1, machine.Admit(OperationKind.Step, "notify")!.Step.UnknownAttempt!.Attempt); // still to be settled by a person
    }

    [Fact]
    public void ARetry_OfARunWhoseCodeThrew_ReplaysEverything()
    {
        var machine = new JournalMachine("r", T0,
        [
            Completed(1, "fetch", T0),
            Entry(0, JournalEntryKind.RunFailed, "parse", error: new ErrorInfo("System.FormatException", "bad input")),
            Entry(0, JournalEntryKind.RunRetried, "parse", payload: "{}"),
        ]);
        Add(machine, OperationKind.Step, "fetch");
        Assert.Equal(ReplayAction.Deliver, machine.NextReplay(false, null).Action);
    }

    private static FakeOperation Add(JournalMachine machine, OperationKind kind, string name, bool cleanup = false)
    {
        var position = machine.Admit(kind, name) ?? throw new InvalidOperationException(machine.Nondeterminism!.Message);
        var operation = new FakeOperation(position.Sequence, name, cleanup);
        machine.Add(operation);
        return operation;
    }

    private static void Deliver(JournalMachine machine, ReplayStep step)
    {
        Assert.Equal(ReplayAction.Deliver, step.Action);
        machine.Delivered(step.Operation!, step.Entry!);
        step.Operation!.Deliver(step.Entry!);
    }

    private static JournalEntry Completed(int sequence, string name, DateTimeOffset at) =>
        Entry(sequence, JournalEntryKind.StepCompleted, name, attempt: 1, recordedAt: at, payload: "1");

    private static JournalEntry Entry(int sequence, JournalEntryKind kind, string name, int attempt = 0, DateTimeOffset? recordedAt = null,
        DateTimeOffset? startedAt = null, string? payload = null, ErrorInfo? error = null, DateTimeOffset? retryAt = null) => new()
    {
        Sequence = sequence, Kind = kind, Name = name, Attempt = attempt, RecordedAt = recordedAt ?? T0, StartedAt = startedAt, Payload = payload,
        Error = error, RetryAt = retryAt,
    };

    private sealed class FakeOperation(int sequence, string name, bool cleanup) : IMachineOperation
    {
        public List<JournalEntry> Delivered { get; } = [];

        public int Sequence => sequence;

        public string Name => name;

        public bool IsDone { get; private set; }

        public bool IsStarted { get; private set; }

        public bool IsCleanup => cleanup;

        public DateTimeOffset? WaitingUntil { get; private set; }

        public string? AttentionNote { get; set; }

        public string? WaitNote => null;

        public void Start(DateTimeOffset? waitingUntil)
        {
            IsStarted = true;
            WaitingUntil = waitingUntil;
        }

        public RecoveryPointData? RecoveryPoint() => null;

        public void Deliver(JournalEntry entry)
        {
            IsDone = true;
            Delivered.Add(entry);
        }

        public string Describe() => $"{(Name == "nap" ? "timer" : "step")} '{Name}'";
    }
}
