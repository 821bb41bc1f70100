using Keel.Cli.Output;

namespace Keel.Cli.Tests.Output;

/// <summary><c>keel show</c>'s words for a run's history, from journals made by hand (no store).</summary>
public class TimelineViewTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private static JournalEntry Entry(long index, int sequence, JournalEntryKind kind, string name, double at, int attempt = 0, string? payload = null,
        ErrorInfo? error = null, double? startedAt = null, double? retryAt = null) => new()
    {
        Index = index, Sequence = sequence, Kind = kind, Name = name, RecordedAt = T0.AddSeconds(at), Attempt = attempt, Payload = payload, Error = error,
        StartedAt = startedAt is { } s ? T0.AddSeconds(s) : null, RetryAt = retryAt is { } r ? T0.AddSeconds(r) : null,
    };

    private static RunInfo Run(string id, RunStatus status, string? reason = null) =>
        new() { RunId = id, WorkflowName = "payments", Status = status, CreatedAt = T0, UpdatedAt = T0, StatusReason = reason };

    private static string Show(RunInfo run, IReadOnlyList<JournalEntry> journal)
    {
        var history = RunHistory.Build(run, journal);
        using var writer = new StringWriter();
        RunView.Write(writer, run, history);
        TimelineView.Write(writer, history, journal, run.CreatedAt);
        return writer.ToString();
    }

    [Fact]
    public void Show_OpenAttention_SaysWhyAndTheResolveCommand()
    {
        var reason = new AttentionReason { Kind = AttentionKind.OutcomeUnknown, Step = "charge", Position = 1, Attempt = 1, AttemptStartedAt = T0.AddSeconds(1) };
        var run = Run("pay-7", RunStatus.NeedsAttention, reason.ToString());
        var text = Show(run, [
            Entry(0, 1, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(1, 1, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: System.Text.Json.JsonSerializer.Serialize(reason, KeelJson.Default)),
        ]);

        Assert.Contains("Outcome unknown: the process stopped while", text, StringComparison.Ordinal);
        Assert.Contains("'charge' was running (attempt 1", text, StringComparison.Ordinal);
        Assert.Contains("Resolve it: keel resolve pay-7 --retry | --complete-with JSON | --fail REASON", text, StringComparison.Ordinal);
        Assert.Contains("charge: attempt 1 started at +1.000s (at most once), outcome unknown; NEEDS ATTENTION at +5.000s: Outcome unknown", text, StringComparison.Ordinal);
        Assert.Contains("attempt 1 started at +1.000s (at most once), outcome unknown", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Show_OldPlainTextAttention_PrintsTheTextOnce_WithTheCommandOfThisVersion()
    {
        const string old = "Outcome unknown: the process stopped while 'charge' was running (attempt 1, started 2026-11-26 10:00:01Z); " +
                           "its body is not run again on its own. Resolve it: keel resolve pay-7 --retry | --complete-with JSON | --fail REASON.";
        var run = Run("pay-7", RunStatus.NeedsAttention, old);
        var text = Show(run, [
            Entry(0, 1, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(1, 1, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: old),
        ]);

        Assert.Contains("its body is not run again on its own.", text, StringComparison.Ordinal);
        // The journal table shows the entry's payload as recorded; the run's header and story use the reason without it.
        var header = text[..text.IndexOf("Journal (", StringComparison.Ordinal)];
        Assert.Single(header.Split("keel resolve")[1..]);
        Assert.Contains("Resolve it: keel resolve pay-7 --retry | --complete-with JSON | --fail REASON", header, StringComparison.Ordinal);
        var steps = text[text.IndexOf("Steps", StringComparison.Ordinal)..];
        Assert.DoesNotContain("keel resolve", steps, StringComparison.Ordinal);
    }

    [Fact]
    public void Show_ARunThatNoLongerNeedsAttention_HasNoResolveCommand()
    {
        var retry = """{"action":"Retry","reason":"not charged","by":"dana","at":"2026-11-26T10:00:06+00:00"}""";
        var text = Show(Run("pay-7", RunStatus.Completed), [
            Entry(0, 1, JournalEntryKind.StepStarted, "charge", 1, attempt: 1, startedAt: 1),
            Entry(1, 1, JournalEntryKind.StepNeedsAttention, "charge", 5, payload: "old text"),
            Entry(2, 1, JournalEntryKind.StepResolved, "charge", 6, payload: retry),
            Entry(3, 1, JournalEntryKind.StepCompleted, "charge", 7, attempt: 2, payload: "\"ok\"", startedAt: 6.5),
            Entry(4, 0, JournalEntryKind.RunCompleted, "payments", 8),
        ]);

        Assert.DoesNotContain("keel resolve", text, StringComparison.Ordinal);
        Assert.Contains("charge: NEEDS ATTENTION at +5.000s: old text; resolved at +6.000s: retry by dana (not charged); " +
                        "attempt 1 failed (OutcomeUnknown: The process stopped while attempt 1 ran", text, StringComparison.Ordinal);
        Assert.Contains("attempt 2 completed at +7.000s, took 0.500s", text, StringComparison.Ordinal);
        Assert.Contains("payments: run completed at +8.000s", text, StringComparison.Ordinal);
    }

    [Fact]
    public void StepStories_TellRetriesWaitsAndRunEvents_InJournalOrder()
    {
        var journal = new[]
        {
            Entry(0, 1, JournalEntryKind.StepAttemptFailed, "fetch", 1, attempt: 1, error: new ErrorInfo("System.Net.Http.HttpRequestException", "busy"), startedAt: 0.5, retryAt: 2),
            Entry(1, 1, JournalEntryKind.StepCompleted, "fetch", 3, attempt: 2, payload: "1", startedAt: 2),
            Entry(2, 2, JournalEntryKind.SignalRejected, "paid", 4, payload: "\"yes\"", error: new ErrorInfo("System.Text.Json.JsonException", "not an Invoice")),
            Entry(3, 2, JournalEntryKind.SignalReceived, "paid", 5, payload: """{"id":7}"""),
            Entry(4, 3, JournalEntryKind.TimerFired, "cool-down", 6, startedAt: 6),
            Entry(5, 4, JournalEntryKind.ChildStarted, "enrich", 7, payload: "\"pay-7.4\""),
            Entry(6, 4, JournalEntryKind.ChildFailed, "enrich", 8, error: new ErrorInfo("Keel.ChildEnded", "Child run 'pay-7.4' ended Cancelled.")),
            Entry(7, 0, JournalEntryKind.RunBlocked, "payments", 9, error: new ErrorInfo("Keel.NondeterminismException", "position 5")),
            Entry(8, 0, JournalEntryKind.RunUnblocked, "payments", 10, payload: """{"by":"ada","reason":"fixed"}"""),
        };

        var lines = TimelineView.StepStories(RunHistory.Build(null, journal), T0).ToList();

        Assert.Equal([
            "fetch: attempt 1 failed (HttpRequestException: busy), retried at +2.000s; attempt 2 completed at +3.000s, took 1.000s",
            "paid: signal set aside, the wait goes on (JsonException: not an Invoice) at +4.000s",
            "paid: signal received ({\"id\":7}) at +5.000s",
            "cool-down: timer fired at +6.000s",
            "enrich: child run started: pay-7.4 (keel show pay-7.4) at +7.000s",
            "enrich: child run ended without a result (ChildEnded: Child run 'pay-7.4' ended Cancelled.) at +8.000s",
            "run: run blocked (NondeterminismException: position 5) at +9.000s",
            "run: run unblocked by ada: fixed at +10.000s",
        ], lines);
    }
}
