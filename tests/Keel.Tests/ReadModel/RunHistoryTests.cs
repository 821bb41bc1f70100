using System.Text.Json;
using Keel.Engine;

namespace Keel.Tests.ReadModel;

/// <summary>The read model of a run from journals alone: no store, no worker, no clock.</summary>
public class RunHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    /// <summary>Entries with their journal index set, as a store returns them.</summary>
    private static List<JournalEntry> Journal(params JournalEntry[] entries) =>
        [.. entries.Select((e, i) => e with { Index = i })];

    private static JournalEntry Entry(int sequence, JournalEntryKind kind, string name, double at, int attempt = 0, string? payload = null,
        ErrorInfo? error = null, double? startedAt = null, double? retryAt = null) => new()
    {
        Sequence = sequence, Kind = kind, Name = name, RecordedAt = At(at), Attempt = attempt, Payload = payload, Error = error,
        StartedAt = startedAt is { } s ? At(s) : null, RetryAt = retryAt is { } r ? At(r) : null,
    };

    private static string Json<T>(T value) => KeelJson.Serialize(value, KeelJson.Default);

    private static RunInfo Run(RunStatus status) => new() { RunId = "r1", WorkflowName = "wf", Status = status, CreatedAt = T0 };

    [Fact]
    public void Build_VersionMarkers_AreDecisionsInNoPosition_AndKeelsOwnAreLeftOut()
    {
        var history = RunHistory.Build(Run(RunStatus.Running), Journal(
            Entry(0, JournalEntryKind.VersionMarker, "keel.idempotency-key", 0, payload: "-1"),
            Entry(1, JournalEntryKind.StepCompleted, "a", 1, attempt: 1, payload: "1"),
            Entry(1, JournalEntryKind.VersionMarker, "fraud-check", 2, payload: "2")));
        Assert.Equal("a", Assert.Single(history.Operations).Name);
        Assert.Equal(OperationKind.Step, history.Operations[0].Kind);
        Assert.Equal(new Dictionary<string, int> { ["fraud-check"] = 2 }, history.Versions);
    }

    [Fact]
    public void Build_StepRetriedThenCompleted_FoldsAttemptsInOrder()
    {
        var history = RunHistory.Build(Run(RunStatus.Completed), Journal(
            Entry(1, JournalEntryKind.StepAttemptFailed, "fetch", 1, attempt: 1, error: new ErrorInfo("Http", "busy"), startedAt: 0.5, retryAt: 3),
            Entry(1, JournalEntryKind.StepCompleted, "fetch", 4, attempt: 2, payload: """{"rows":20}""", startedAt: 3),
            Entry(0, JournalEntryKind.RunCompleted, "wf", 5)));

        var step = Assert.Single(history.Operations);
        Assert.Equal((1, OperationKind.Step, "fetch", OperationState.Completed), (step.Position, step.Kind, step.Name, step.State));
        Assert.Equal(At(0.5), step.StartedAt);
        Assert.Equal(At(4), step.EndedAt);
        Assert.Equal(20, step.Result!.Value.GetProperty("rows").GetInt32());
        Assert.Collection(step.Attempts,
            a =>
            {
                Assert.Equal((1, AttemptOutcome.Failed, "busy", At(3)), (a.Number, a.Outcome, a.Error!.Message, a.RetryAt));
                Assert.Equal((At(0.5), At(1)), (a.StartedAt, a.EndedAt));
            },
            a => Assert.Equal((2, AttemptOutcome.Completed, At(3), At(4)), (a.Number, a.Outcome, a.StartedAt, a.EndedAt)));
        Assert.Equal((0L, 1L), (step.FirstIndex, step.LastIndex));
        Assert.Equal(RunEventKind.Completed, Assert.Single(history.Events).Kind);
        Assert.True(history.Ended);
        Assert.Empty(history.Waits);
        Assert.Null(history.Attention);
        Assert.Equal(1, history.CurrentPosition);
        Assert.Equal(new RunHistorySummary { Operations = 1, StepsCompleted = 1, FailedAttempts = 1, Entries = 3 }, history.Summary);
        Assert.True(history.IsStepCompleted("fetch"));
        Assert.False(history.IsStepCompleted("other"));
    }

    [Fact]
    public void Build_StepInBackoff_WaitsForItsRetry()
    {
        var history = RunHistory.Build(Run(RunStatus.Waiting), Journal(
            Entry(1, JournalEntryKind.StepAttemptFailed, "fetch", 1, attempt: 1, error: new ErrorInfo("Http", "busy"), startedAt: 0, retryAt: 60)));

        var step = Assert.Single(history.Operations);
        Assert.Equal(OperationState.Waiting, step.State);
        var wait = Assert.Single(history.Waits);
        Assert.Equal((WaitKind.Retry, 1, "fetch", At(1), At(60)), (wait.Kind, wait.Position, wait.Name, wait.Since, wait.DueAt));
        Assert.Same(wait, step.Wait);
        Assert.False(history.Ended);
    }

    [Fact]
    public void Build_StepFailedForGood_SaysWhy()
    {
        var history = RunHistory.Build(null, Journal(
            Entry(1, JournalEntryKind.StepFailed, "charge", 2, attempt: 1, error: new ErrorInfo("Card", "declined") { IsTerminal = true }, startedAt: 1),
            Entry(0, JournalEntryKind.RunFailed, "wf", 3, error: new ErrorInfo("Card", "step 'charge' failed after 1 attempt(s): declined"))));

        var step = Assert.Single(history.Operations);
        Assert.Equal((OperationState.Failed, "declined"), (step.State, step.Error!.Message));
        Assert.Equal(AttemptOutcome.FailedForGood, Assert.Single(step.Attempts).Outcome);
        var failed = Assert.Single(history.Events);
        Assert.Equal((RunEventKind.Failed, "Card"), (failed.Kind, failed.Error!.Type));
        Assert.Equal(1, history.Summary.StepsFailed);
        Assert.Equal(1, history.Summary.FailedAttempts);
    }

    [Fact]
    public void Build_OutcomeUnknown_OpensAnAttentionWithItsStructuredReason()
    {
        var reason = new AttentionReason { Kind = AttentionKind.OutcomeUnknown, Step = "charge", Position = 2, Attempt = 1, AttemptStartedAt = At(1) };
        var history = RunHistory.Build(Run(RunStatus.NeedsAttention), Journal(
            Entry(1, JournalEntryKind.StepCompleted, "plan", 0.5, attempt: 1, payload: "1"),
            Entry(2, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(2, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: Json(reason))));

        var step = history.FindOperation(2)!;
        Assert.Equal(OperationState.NeedsAttention, step.State);
        var attempt = Assert.Single(step.Attempts);
        Assert.Equal((AttemptOutcome.Unknown, true, At(1)), (attempt.Outcome, attempt.AtMostOnce, attempt.StartedAt));
        var attention = history.Attention!;
        Assert.Equal((2, "charge", 1, At(5), 2L), (attention.Position, attention.Step, attention.Number, attention.Since, attention.Index));
        Assert.Equal(reason, attention.Reason);
        Assert.Equal(StepResolutionData.SignalName(2, 1), attention.SignalName);
        Assert.Equal(WaitKind.Person, Assert.Single(history.Waits).Kind);
        Assert.Equal(2, history.CurrentPosition);
    }

    [Fact]
    public void Build_OldPlainTextAttention_ReadsAsUnspecifiedWithoutTheCommand()
    {
        const string old = "Outcome unknown: the process stopped while 'charge' was running (attempt 1, started 2026-11-26 10:00:01Z); " +
                           "its body is not run again on its own. Resolve it: keel resolve r1 --retry | --complete-with JSON | --fail REASON.";
        var history = RunHistory.Build(Run(RunStatus.NeedsAttention), Journal(
            Entry(2, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(2, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: old)));

        var reason = history.Attention!.Reason;
        Assert.Equal((AttentionKind.Unspecified, "charge", 2), (reason.Kind, reason.Step, reason.Position));
        Assert.StartsWith("Outcome unknown: the process stopped while 'charge'", reason.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("keel resolve", reason.ToString(), StringComparison.Ordinal);
        Assert.Equal(AttemptOutcome.Unknown, Assert.Single(history.Operations[0].Attempts).Outcome);
    }

    [Fact]
    public void Build_ResolvedByRetry_CountsTheUnknownAttemptAsFailed_AndASecondAttentionHasTheNextNumber()
    {
        var retry = new StepResolutionData(StepResolutionAction.Retry, null, "not in the PSP", "dana", At(6));
        var history = RunHistory.Build(Run(RunStatus.NeedsAttention), Journal(
            Entry(2, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(2, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: "old text"),
            Entry(2, JournalEntryKind.StepResolved, "charge", 6, payload: Json(retry)),
            Entry(2, JournalEntryKind.StepStarted, "charge", 7, attempt: 2, startedAt: 7),
            Entry(2, JournalEntryKind.StepNeedsAttention, "charge", 9, payload: "again")));

        var step = history.Operations[0];
        Assert.Collection(step.Attempts,
            a => Assert.Equal((AttemptOutcome.Failed, "Keel.OutcomeUnknown", At(6)), (a.Outcome, a.Error!.Type, a.EndedAt)),
            a => Assert.Equal(AttemptOutcome.Unknown, a.Outcome));
        Assert.Contains("dana: not in the PSP", step.Attempts[0].Error!.Message, StringComparison.Ordinal);
        Assert.Equal((2, 4L), (history.Attention!.Number, history.Attention.Index));
        Assert.Equal("keel.resolve/2/2", history.Attention.SignalName);
        var decision = Assert.Single(history.Decisions);
        Assert.Equal((DecisionKind.StepResolution, 2, "charge", ResolutionAction.Retry, "dana", "not in the PSP", At(6)),
            (decision.Kind, decision.Position, decision.Name, decision.Action, decision.By, decision.Reason, decision.At));
    }

    [Fact]
    public void Build_ResolvedByCompletion_CompletesTheStepWithTheGivenResult()
    {
        var complete = new StepResolutionData(StepResolutionAction.Complete, "\"charged 30\"", null, "dana", At(6));
        var history = RunHistory.Build(Run(RunStatus.Running), Journal(
            Entry(2, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(2, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: "x"),
            Entry(2, JournalEntryKind.StepResolved, "charge", 6, payload: Json(complete)),
            Entry(2, JournalEntryKind.StepCompleted, "charge", 6, attempt: 1, payload: "\"charged 30\"")));

        var step = history.Operations[0];
        Assert.Equal((OperationState.Completed, "charged 30"), (step.State, step.Result!.Value.GetString()));
        Assert.Equal((AttemptOutcome.Completed, At(1), At(6)), (step.Attempts[0].Outcome, step.Attempts[0].StartedAt, step.Attempts[0].EndedAt));
        Assert.Null(history.Attention);
        Assert.Equal("charged 30", history.Decisions[0].Result!.Value.GetString());
    }

    [Fact]
    public void Build_PreconditionNotMet_NeedsAttentionWithoutAnAttempt()
    {
        var reason = new AttentionReason { Kind = AttentionKind.PreconditionNotMet, Step = "refund", Position = 3, Unmet = ["approval 'refund' was granted earlier in this run"] };
        var history = RunHistory.Build(Run(RunStatus.NeedsAttention), Journal(
            Entry(3, JournalEntryKind.StepNeedsAttention, "refund", 1, payload: Json(reason))));

        var step = history.Operations[0];
        Assert.Equal((OperationState.NeedsAttention, 0), (step.State, step.Attempts.Count));
        Assert.Equal(AttentionKind.PreconditionNotMet, history.Attention!.Reason.Kind);
        Assert.Null(step.StartedAt);
    }

    [Fact]
    public void Build_AttentionOfARunThatEnded_IsNotOpen()
    {
        var history = RunHistory.Build(Run(RunStatus.Cancelled), Journal(
            Entry(2, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(2, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: "x"),
            Entry(0, JournalEntryKind.RunCancelled, "wf", 6)));

        Assert.Null(history.Attention);
        Assert.Equal(OperationState.Cancelled, history.Operations[0].State);
        Assert.Empty(history.Waits);
        Assert.Equal(RunEventKind.Cancelled, history.Events[0].Kind);
    }

    [Fact]
    public void Build_ApprovalRequestedAndDecided_RecordsTheRequestAndWhoDecidedWhat()
    {
        using var proposed = JsonDocument.Parse("""{"amount":40}""");
        using var edited = JsonDocument.Parse("""{"amount":35}""");
        var request = new ApprovalRequestData("Refund 40 EUR", "ticket 7", "pay-refund", proposed.RootElement.Clone(), ["full", "half"], At(100));
        var decision = new ApprovalDecisionData(ApprovalOutcome.Approved, "carol", "customer is right", "half", edited.RootElement.Clone(), At(3))
        {
            ProposedArguments = proposed.RootElement.Clone(),
        };
        var waiting = RunHistory.Build(Run(RunStatus.Waiting), Journal(Entry(1, JournalEntryKind.ApprovalRequested, "refund", 1, payload: Json(request))));

        var open = waiting.Operations[0];
        Assert.Equal((OperationKind.Approval, OperationState.Waiting, At(1)), (open.Kind, open.State, open.StartedAt));
        Assert.Equal(("Refund 40 EUR", "ticket 7", "pay-refund", At(1), At(100)),
            (open.Approval!.Title, open.Approval.Details, open.Approval.Action, open.Approval.RequestedAt, open.Approval.Deadline));
        Assert.Equal(["full", "half"], open.Approval.Options);
        Assert.Equal((WaitKind.Approval, "Refund 40 EUR", At(100)), (open.Wait!.Kind, open.Wait.Title, open.Wait.DueAt));
        Assert.False(waiting.IsApprovalGranted("refund"));

        var decided = RunHistory.Build(Run(RunStatus.Completed), Journal(
            Entry(1, JournalEntryKind.ApprovalRequested, "refund", 1, payload: Json(request)),
            Entry(1, JournalEntryKind.ApprovalDecided, "refund", 4, payload: Json(decision), startedAt: 3)));
        var approval = decided.Operations[0];
        Assert.Equal((OperationState.Completed, At(4)), (approval.State, approval.EndedAt));
        Assert.Null(approval.Result);
        var made = Assert.Single(decided.Decisions);
        Assert.Equal((DecisionKind.Approval, ApprovalOutcome.Approved, "carol", "customer is right", "half", At(3)),
            (made.Kind, made.Outcome, made.By, made.Reason, made.Option, made.At));
        Assert.Equal(40, made.ProposedArguments!.Value.GetProperty("amount").GetInt32());
        Assert.Equal(35, made.EditedArguments!.Value.GetProperty("amount").GetInt32());
        Assert.True(decided.IsApprovalGranted("refund"));
        Assert.False(decided.IsApprovalGranted("other"));
    }

    [Fact]
    public void Build_RejectedOrExpiredApproval_IsNotGranted()
    {
        var rejected = new ApprovalDecisionData(ApprovalOutcome.Rejected, "carol", null, null, null, At(3));
        var expired = new ApprovalDecisionData(ApprovalOutcome.Expired, null, null, null, null, At(4));
        var history = RunHistory.Build(null, Journal(
            Entry(1, JournalEntryKind.ApprovalDecided, "refund", 3, payload: Json(rejected)),
            Entry(2, JournalEntryKind.ApprovalDecided, "refund", 4, payload: Json(expired)),
            Entry(3, JournalEntryKind.ApprovalDecided, "refund", 5, payload: "not json")));

        Assert.False(history.IsApprovalGranted("refund"));
        Assert.Equal([ApprovalOutcome.Rejected, ApprovalOutcome.Expired, null], history.Decisions.Select(d => d.Outcome));
        Assert.Null(history.Decisions[0].EditedArguments);
    }

    [Fact]
    public void Build_ChildRun_WaitsForTheChildThenHasItsResultOrError()
    {
        var started = Entry(1, JournalEntryKind.ChildStarted, "enrich", 1, payload: Json("r1.1"));
        var waiting = RunHistory.Build(Run(RunStatus.Waiting), Journal(started));
        Assert.Equal((OperationKind.ChildRun, OperationState.Waiting, "r1.1"), (waiting.Operations[0].Kind, waiting.Operations[0].State, waiting.Operations[0].ChildRunId));
        Assert.Equal((WaitKind.ChildRun, "r1.1", At(1)), (waiting.Waits[0].Kind, waiting.Waits[0].ChildRunId, waiting.Waits[0].Since));

        var completed = RunHistory.Build(null, Journal(started, Entry(1, JournalEntryKind.ChildCompleted, "enrich", 4, payload: "42", startedAt: 3)));
        Assert.Equal((OperationState.Completed, 42, "r1.1"), (completed.Operations[0].State, completed.Operations[0].Result!.Value.GetInt32(), completed.Operations[0].ChildRunId));

        var failed = RunHistory.Build(null, Journal(started, Entry(1, JournalEntryKind.ChildFailed, "enrich", 4, error: new ErrorInfo("Keel.ChildEnded", "cancelled"))));
        Assert.Equal((OperationState.Failed, "cancelled"), (failed.Operations[0].State, failed.Operations[0].Error!.Message));
    }

    [Fact]
    public void Build_SignalWait_SetAsideSignalsAreListed_AndATimeoutIsAFailure()
    {
        var rejected = Entry(1, JournalEntryKind.SignalRejected, "invoice-paid", 2, payload: "\"yes\"", error: new ErrorInfo("Json", "not an Invoice"));
        var waiting = RunHistory.Build(Run(RunStatus.Waiting), Journal(rejected));
        var wait = waiting.Operations[0];
        Assert.Equal((OperationKind.Signal, OperationState.Waiting), (wait.Kind, wait.State));
        Assert.Equal(("\"yes\"", "not an Invoice"), (wait.RejectedSignals[0].Payload, wait.RejectedSignals[0].Error!.Message));
        Assert.Equal((WaitKind.Signal, "invoice-paid"), (waiting.Waits[0].Kind, waiting.Waits[0].SignalName));

        var received = RunHistory.Build(null, Journal(rejected, Entry(1, JournalEntryKind.SignalReceived, "invoice-paid", 3, payload: """{"id":7}""", startedAt: 2.5)));
        Assert.Equal((OperationState.Completed, 7), (received.Operations[0].State, received.Operations[0].Result!.Value.GetProperty("id").GetInt32()));
        Assert.Empty(received.Waits);

        var timedOut = RunHistory.Build(null, Journal(Entry(1, JournalEntryKind.SignalTimedOut, "invoice-paid", 3, startedAt: 3)));
        Assert.Equal((OperationState.Failed, "Keel.SignalTimedOut"), (timedOut.Operations[0].State, timedOut.Operations[0].Error!.Type));
    }

    [Fact]
    public void Build_TimerFired_IsCompleted()
    {
        var history = RunHistory.Build(null, Journal(Entry(1, JournalEntryKind.TimerFired, "cool-down", 10, startedAt: 10)));
        Assert.Equal((OperationKind.Timer, OperationState.Completed, At(10)), (history.Operations[0].Kind, history.Operations[0].State, history.Operations[0].EndedAt));
        Assert.Null(history.Operations[0].Result);
    }

    [Fact]
    public void Build_RunLevelEntries_AreEventsAndAnUnblockIsADecision()
    {
        var history = RunHistory.Build(null, Journal(
            Entry(0, JournalEntryKind.RunBlocked, "wf", 1, error: new ErrorInfo("Keel.NondeterminismException", "position 2")),
            Entry(0, JournalEntryKind.RunUnblocked, "wf", 2, payload: Json(new OperatorActionData("ada", "v1 redeployed"))),
            Entry(0, JournalEntryKind.CancelRequested, "cancel", 3),
            Entry(0, JournalEntryKind.RunContinuedAsNew, "wf", 4, payload: Json("r1~1"))));

        Assert.Empty(history.Operations);
        Assert.Equal(0, history.CurrentPosition);
        Assert.Equal([RunEventKind.Blocked, RunEventKind.Unblocked, RunEventKind.CancelDelivered, RunEventKind.ContinuedAsNew], history.Events.Select(e => e.Kind));
        Assert.Equal("position 2", history.Events[0].Error!.Message);
        Assert.Equal(("ada", "v1 redeployed"), (history.Events[1].By, history.Events[1].Reason));
        Assert.Equal("r1~1", history.Events[3].RunId);
        Assert.True(history.Ended);
        var unblock = Assert.Single(history.Decisions);
        Assert.Equal((DecisionKind.Unblock, 0, "ada", "v1 redeployed", 1L), (unblock.Kind, unblock.Position, unblock.By, unblock.Reason, unblock.Index));
    }

    [Fact]
    public void Build_WorkerRecords_TellWhoRanTheRun_WhereOneStoppedWithoutLettingGo_AndWhatItLeftTheRunWaitingFor()
    {
        var history = RunHistory.Build(Run(RunStatus.Waiting), Journal(
            Entry(0, JournalEntryKind.RunClaimed, "worker-a", 0, payload: Json(new ClaimData("host-1", 101, "1.0"))),
            Entry(1, JournalEntryKind.StepCompleted, "fetch", 1, attempt: 1, payload: "1"),
            Entry(0, JournalEntryKind.RunClaimed, "worker-b", 4, payload: Json(new ClaimData("host-2", 202, "1.0"))), // a died
            Entry(2, JournalEntryKind.StepCompleted, "parse", 5, attempt: 1, payload: "2"),
            Entry(0, JournalEntryKind.RunReleased, "worker-b", 6,
                payload: Json(new ReleaseData(RunStatus.Waiting, At(60), ["invoice-paid"], "waiting for signal 'invoice-paid'"))),
            Entry(0, JournalEntryKind.RunClaimed, "worker-a", 60, payload: Json(new ClaimData("host-1", 303, "1.1")))));

        Assert.Equal([RunEventKind.Claimed, RunEventKind.TakenOver, RunEventKind.Released, RunEventKind.Claimed], history.Events.Select(e => e.Kind));
        Assert.Equal(new WorkerRef("worker-a", "host-1", 101, "1.0"), history.Events[0].Worker);
        Assert.Equal(("worker-a", "worker-b", At(4)), (history.Events[1].PreviousWorker, history.Events[1].Worker?.Id, history.Events[1].At));
        var released = history.Events[2];
        Assert.Equal((RunStatus.Waiting, At(60), "waiting for signal 'invoice-paid'"), (released.Status, released.DueAt, released.Reason));
        Assert.Null(history.Events[3].PreviousWorker); // it was let go of: a new claim, not a takeover
        Assert.Equal([1, 2], history.Operations.Select(o => o.Position)); // run records take no position
    }

    [Fact]
    public void Build_EveryEntryKind_IsRead()
    {
        // One entry of every kind: the fold must place each (an operation, a decision or an event) and never throw.
        var journal = Journal([.. Enum.GetValues<JournalEntryKind>().Select((kind, i) =>
            Entry(JournalKinds.OperationOf(kind) is OperationKind.None or OperationKind.Cancellation ? 0 : i + 1, kind, kind.ToString(), i, attempt: 1))]);

        var history = RunHistory.Build(null, journal);

        var operationKinds = Enum.GetValues<JournalEntryKind>().Count(k => JournalKinds.OperationOf(k) is not (OperationKind.None or OperationKind.Cancellation or OperationKind.Version));
        Assert.Equal(operationKinds, history.Operations.Count);
        Assert.All(history.Operations, o => Assert.Equal(JournalKinds.OperationOf(Enum.Parse<JournalEntryKind>(o.Name)), o.Kind));
        Assert.Equal([RunEventKind.CancelDelivered, RunEventKind.Completed, RunEventKind.Failed, RunEventKind.ContinuedAsNew, RunEventKind.Cancelled,
            RunEventKind.Blocked, RunEventKind.Unblocked, RunEventKind.Retried, RunEventKind.ForkedTo, RunEventKind.Claimed, RunEventKind.Released],
            history.Events.Select(e => e.Kind));
        Assert.Equal(journal.Count, history.Summary.Entries);
    }

    [Fact]
    public void Build_OperationsComeByPosition_AndParallelStepsKeepTheirOwnAttempts()
    {
        var history = RunHistory.Build(Run(RunStatus.Running), Journal(
            Entry(2, JournalEntryKind.StepAttemptFailed, "b", 1, attempt: 1, error: new ErrorInfo("E", "b1"), retryAt: 2),
            Entry(1, JournalEntryKind.StepCompleted, "a", 1.5, attempt: 1, payload: "1"),
            Entry(3, JournalEntryKind.StepStarted, "c", 1.6, attempt: 1, startedAt: 1.6),
            Entry(2, JournalEntryKind.StepCompleted, "b", 3, attempt: 2, payload: "2")));

        Assert.Equal(["a", "b", "c"], history.Operations.Select(o => o.Name));
        Assert.Equal([OperationState.Completed, OperationState.Completed, OperationState.Running], history.Operations.Select(o => o.State));
        Assert.Equal(2, history.Operations[1].Attempts.Count);
        Assert.Equal(3, history.CurrentPosition);
        Assert.Equal(AttemptOutcome.Running, history.Operations[2].Attempts[0].Outcome);
    }

    [Fact]
    public void History_SerializesWithKeelJson_AndReadsBack()
    {
        var reason = new AttentionReason { Kind = AttentionKind.OutcomeUnknown, Step = "charge", Position = 1, Attempt = 1 };
        var history = RunHistory.Build(Run(RunStatus.NeedsAttention), Journal(
            Entry(1, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(1, JournalEntryKind.StepNeedsAttention, "charge", 2, payload: Json(reason))));

        var json = KeelJson.Serialize(history, KeelJson.Default);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("NeedsAttention", root.GetProperty("operations")[0].GetProperty("state").GetString());
        Assert.Equal("Step", root.GetProperty("operations")[0].GetProperty("kind").GetString());
        Assert.Equal("Unknown", root.GetProperty("operations")[0].GetProperty("attempts")[0].GetProperty("outcome").GetString());
        Assert.Equal("OutcomeUnknown", root.GetProperty("attention").GetProperty("reason").GetProperty("kind").GetString());
        Assert.Equal(1, root.GetProperty("attention").GetProperty("number").GetInt32());
        Assert.False(root.GetProperty("attention").TryGetProperty("signalName", out _));
        Assert.Equal("Person", root.GetProperty("waits")[0].GetProperty("kind").GetString());
        var back = KeelJson.Deserialize<RunHistory>(json, KeelJson.Default)!;
        Assert.Equal(history.Attention, back.Attention);
        Assert.Equal(history.Summary, back.Summary);
    }

    [Fact]
    public async Task GetHistoryAsync_V1Database_ReadsTheRunFromItsJournal()
    {
        using var db = new TempDatabase();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journals", "golden-v1.db"), db.Path);
        await using var store = db.CreateStore();
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        var client = KeelClient.Create(store);

        var history = (await client.GetHistoryAsync("golden-1", TestContext.Current.CancellationToken))!;

        Assert.Equal("golden-1", history.Run!.RunId);
        Assert.Equal(["plan", "search", "flaky"], history.Operations.Select(o => o.Name));
        Assert.Equal([OperationState.Completed, OperationState.Completed, OperationState.Waiting], history.Operations.Select(o => o.State));
        Assert.Equal("keel-a+keel-b", history.Operations[1].Result!.Value.GetString());
        var failed = Assert.Single(history.Operations[2].Attempts);
        Assert.Equal((AttemptOutcome.Failed, "upstream 503"), (failed.Outcome, failed.Error!.Message));
        Assert.Equal((WaitKind.Retry, failed.RetryAt), (history.Waits.Single().Kind, history.Waits.Single().DueAt));
        Assert.Equal(3, history.CurrentPosition);
        Assert.Null(await client.GetHistoryAsync("no-such-run", TestContext.Current.CancellationToken));
    }
}
