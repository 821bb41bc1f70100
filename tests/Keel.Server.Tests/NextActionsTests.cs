namespace Keel.Server.Tests;

/// <summary>What the API says can be done next for a run, from its history alone (no server).</summary>
public class NextActionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private static RunHistory History(RunStatus status, params JournalEntry[] journal) =>
        RunHistory.Build(new RunInfo { RunId = "pay-7", WorkflowName = "payments", Status = status, CreatedAt = T0 },
            [.. journal.Select((e, i) => e with { Index = i })]);

    private static IReadOnlyList<ApiAction> Next(RunHistory history, string runPath) => NextActions.For(RunHandoff.From(history), runPath);

    private static JournalEntry Entry(int sequence, JournalEntryKind kind, string name, string? payload = null, int attempt = 0) =>
        new() { Sequence = sequence, Kind = kind, Name = name, RecordedAt = T0, Payload = payload, Attempt = attempt, StartedAt = T0 };

    [Fact]
    public void For_OldPlainTextAttention_OffersTheThreeResolveCalls()
    {
        var history = History(RunStatus.NeedsAttention,
            Entry(1, JournalEntryKind.StepStarted, "charge", attempt: 1),
            Entry(1, JournalEntryKind.StepNeedsAttention, "charge", "Outcome unknown: ... Resolve it: keel resolve pay-7 --retry | --complete-with JSON | --fail REASON."));

        var next = Next(history, "/api/runs/pay-7");

        Assert.Equal(["resolve", "resolve", "resolve", "cancel"], next.Select(a => a.Action));
        next = [.. next.Take(3)];
        Assert.Equal(["retry", "complete", "fail"], next.Select(a => (string)a.Body!["action"]!));
        Assert.All(next, a => Assert.Equal(("resolve", "POST", "/api/runs/pay-7/resolve"), (a.Action, a.Method, a.Path)));
        Assert.All(next, a => Assert.DoesNotContain("keel resolve", a.What, StringComparison.Ordinal));
        Assert.Contains("its effect did not happen", next[0].What, StringComparison.Ordinal);
        Assert.Equal("Step 'charge' of this run waits for a person's decision: POST /api/runs/pay-7/resolve with {\"action\":\"retry\"|\"complete\"|\"fail\",...}.",
            NextActions.ResolveHint(history.Attention!, "/api/runs/pay-7"));
    }

    [Fact]
    public void For_PreconditionNotMet_SaysRetryRunsTheStepAnyway()
    {
        var reason = new AttentionReason { Kind = AttentionKind.PreconditionNotMet, Step = "refund", Position = 2, Unmet = ["approval 'refund' was granted"] };
        var history = History(RunStatus.NeedsAttention,
            Entry(2, JournalEntryKind.StepNeedsAttention, "refund", System.Text.Json.JsonSerializer.Serialize(reason, KeelJson.Default)));

        var next = Next(history, "/keel/api/runs/pay-7");

        Assert.Equal("Run step 'refund' although its precondition did not hold.", next[0].What);
        Assert.Equal("/keel/api/runs/pay-7/resolve", next[0].Path);
    }

    [Fact]
    public void For_ApprovalWaitBlockedOrPaused_OffersTheirCalls_AndAFinishedRunNone()
    {
        var request = """{"title":"Refund 40 EUR","arguments":{"amount":40}}""";
        var approval = Next(History(RunStatus.Waiting, Entry(1, JournalEntryKind.ApprovalRequested, "refund", request)), "/api/runs/pay-7");
        Assert.Equal(["approve", "reject", "pause", "cancel"], approval.Select(a => a.Action));
        Assert.Equal(("/api/runs/pay-7/approvals", "refund", true), (approval[0].Path, (string)approval[0].Body!["name"]!, (bool)approval[0].Body!["approved"]!));

        Assert.Equal(["unblock", "cancel"], Next(History(RunStatus.Blocked), "/api/runs/pay-7").Select(a => a.Action));
        Assert.Equal(["resume", "cancel"], Next(History(RunStatus.Paused), "/api/runs/pay-7").Select(a => a.Action));
        Assert.Empty(Next(History(RunStatus.Cancelled, Entry(1, JournalEntryKind.ApprovalRequested, "refund", request)), "/api/runs/pay-7"));
    }
}
