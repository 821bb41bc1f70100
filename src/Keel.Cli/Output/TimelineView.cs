using System.Globalization;

namespace Keel.Cli.Output;

/// <summary>
/// Prints a run's journal as a timeline (one row per entry, times relative to the run's start) and then per step,
/// so retries read as a story: "attempt 1 failed (...), retried at +1.2s; attempt 2 completed".
/// </summary>
internal static class TimelineView
{
    public static void Write(TextWriter writer, RunInfo run, IReadOnlyList<JournalEntry> journal)
    {
        writer.WriteLine($"Journal ({journal.Count} {(journal.Count == 1 ? "entry" : "entries")})");
        if (journal.Count == 0)
        {
            writer.WriteLine("  (empty: no step has finished yet)");
            return;
        }
        var table = new TextTable("#", "TIME", "KIND", "STEP", "ATTEMPT", "DURATION", "DETAIL");
        foreach (var entry in journal)
        {
            table.Add(
                entry.Index.ToString(CultureInfo.InvariantCulture),
                TimeFormat.Relative(entry.RecordedAt, run.CreatedAt),
                entry.Kind.ToString(),
                entry.Name,
                entry.Attempt > 0 ? entry.Attempt.ToString(CultureInfo.InvariantCulture) : "",
                entry.StartedAt is { } started ? TimeFormat.Duration(entry.RecordedAt - started) : "",
                Detail(entry, run.CreatedAt));
        }
        table.Write(writer, "  ");
        writer.WriteLine();
        writer.WriteLine("Steps");
        foreach (var line in StepStories(journal, run.CreatedAt))
        {
            writer.WriteLine($"  {line}");
        }
    }

    /// <summary>One line per step (in journal order) and one per run-level event.</summary>
    public static IEnumerable<string> StepStories(IReadOnlyList<JournalEntry> journal, DateTimeOffset origin)
    {
        // A step an approval gated (its request named the step as its action) says who let it run.
        var gates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var decided in journal.Where(e => e.Kind == JournalEntryKind.ApprovalDecided))
        {
            var request = journal.FirstOrDefault(e => e.Kind == JournalEntryKind.ApprovalRequested && e.Sequence == decided.Sequence);
            if (ApprovalText.Action(request) is { } action)
            {
                gates[action] = $"gated by approval '{decided.Name}': {ApprovalText.Decision(decided)}";
            }
        }
        var steps = journal.Where(IsStepEntry).GroupBy(e => (e.Sequence, e.Name));
        foreach (var step in steps)
        {
            var attempts = step.Select(e => Attempt(e, origin));
            var gate = gates.TryGetValue(step.Key.Name, out var g) ? $" [{g}]" : "";
            yield return $"{step.Key.Name}: {string.Join("; ", attempts)}{gate}";
        }
        foreach (var entry in journal.Where(e => !IsStepEntry(e)))
        {
            yield return $"{entry.Name}: {RunEvent(entry)} at {TimeFormat.Relative(entry.RecordedAt, origin)}";
        }
    }

    private static bool IsStepEntry(JournalEntry entry) =>
        entry.Kind is JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.StepAttemptFailed
            or JournalEntryKind.StepStarted or JournalEntryKind.StepNeedsAttention or JournalEntryKind.StepResolved;

    private static string Attempt(JournalEntry entry, DateTimeOffset origin)
    {
        var took = entry.StartedAt is { } started ? $", took {TimeFormat.Duration(entry.RecordedAt - started)}" : "";
        return entry.Kind switch
        {
            JournalEntryKind.StepCompleted => $"attempt {entry.Attempt} completed at {TimeFormat.Relative(entry.RecordedAt, origin)}{took}",
            JournalEntryKind.StepAttemptFailed =>
                $"attempt {entry.Attempt} failed ({Error(entry)}), retried at {(entry.RetryAt is { } at ? TimeFormat.Relative(at, origin) : "?")}",
            JournalEntryKind.StepStarted => $"attempt {entry.Attempt} started at {TimeFormat.Relative(entry.RecordedAt, origin)} (at most once)",
            JournalEntryKind.StepNeedsAttention => $"NEEDS ATTENTION at {TimeFormat.Relative(entry.RecordedAt, origin)}: {ErrorText.Truncate(ErrorText.OneLine(entry.Payload ?? ""), 200)}",
            JournalEntryKind.StepResolved => $"resolved at {TimeFormat.Relative(entry.RecordedAt, origin)}: {Resolution(entry.Payload)}",
            _ => $"attempt {entry.Attempt} failed for good ({Error(entry)}) at {TimeFormat.Relative(entry.RecordedAt, origin)}",
        };
    }

    private static string RunEvent(JournalEntry entry) => entry.Kind switch
    {
        JournalEntryKind.RunCompleted => "run completed",
        JournalEntryKind.RunFailed => $"run failed ({Error(entry)})",
        JournalEntryKind.RunCancelled => "run cancelled",
        JournalEntryKind.RunBlocked => $"run blocked ({Error(entry)})",
        JournalEntryKind.CancelRequested => "cancellation delivered to the workflow",
        JournalEntryKind.SignalReceived => $"signal received{(entry.Payload is { } p ? $" ({ErrorText.Truncate(ErrorText.OneLine(p), 80)})" : "")}",
        JournalEntryKind.SignalTimedOut => "wait for the signal timed out",
        JournalEntryKind.SignalRejected => $"signal set aside, the wait goes on ({Error(entry)})",
        JournalEntryKind.RunUnblocked => $"run unblocked{OperatorAction(entry.Payload)}",
        JournalEntryKind.ApprovalRequested => $"approval requested: {ApprovalText.Request(entry)}",
        JournalEntryKind.ApprovalDecided => ApprovalText.Decision(entry),
        JournalEntryKind.RunContinuedAsNew => $"run continued as new run {ChildId(entry)} (keel show {Shell.Quote(ChildId(entry))})",
        JournalEntryKind.ChildStarted => $"child run started: {ChildId(entry)} (keel show {Shell.Quote(ChildId(entry))})",
        JournalEntryKind.ChildCompleted => $"child run completed{(entry.Payload is { } p ? $" ({ErrorText.Truncate(ErrorText.OneLine(p), 80)})" : "")}",
        JournalEntryKind.ChildFailed => $"child run ended without a result ({Error(entry)})",
        _ => entry.Kind.ToString(),
    };

    private static string ChildId(JournalEntry entry)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<string>(entry.Payload ?? "null") ?? "?";
        }
        catch (System.Text.Json.JsonException)
        {
            return entry.Payload ?? "?";
        }
    }

    private static string Resolution(string? payload)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(payload ?? "{}");
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
            var action = Text("action")?.ToLowerInvariant() ?? "?";
            var result = action == "complete" && Text("result") is { } r ? $" with {ErrorText.Truncate(r, 80)}" : "";
            return $"{action}{result} by {Text("by") ?? "someone"}{(Text("reason") is { } why ? $" ({ErrorText.OneLine(why)})" : "")}";
        }
        catch (System.Text.Json.JsonException)
        {
            return payload ?? "";
        }
    }

    /// <summary>" by ada: v1 redeployed" from an operator action's payload ({"by","reason"}).</summary>
    private static string OperatorAction(string? payload)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(payload ?? "{}");
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
            return $"{(Text("by") is { } by ? $" by {by}" : "")}{(Text("reason") is { } why ? $": {ErrorText.OneLine(why)}" : "")}";
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }

    private static string Error(JournalEntry entry) =>
        entry.Error is { } error ? ErrorText.Truncate(ErrorText.Describe(error), 160) : "no error recorded";

    private static string Detail(JournalEntry entry, DateTimeOffset origin) => entry.Kind switch
    {
        JournalEntryKind.StepAttemptFailed =>
            $"{Error(entry)}; retry at {(entry.RetryAt is { } at ? TimeFormat.Relative(at, origin) : "?")}",
        JournalEntryKind.StepFailed or JournalEntryKind.RunFailed or JournalEntryKind.RunBlocked => Error(entry),
        _ => entry.Payload is { } payload ? ErrorText.Truncate(ErrorText.OneLine(payload), 80) : "",
    };
}
