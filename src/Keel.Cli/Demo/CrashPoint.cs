namespace Keel.Cli.Demo;

/// <summary>When the demo kills its first worker, and how it describes what was done by then.</summary>
internal static class CrashPoint
{
    public const string FlakyStep = "tool:fetch-pricing";

    /// <summary>
    /// Worker 1 hangs in this attempt, so it cannot get past the crash point however slowly the demo polls on a loaded
    /// machine: the kill always lands after attempt 1 failed and before attempt 2 finished.
    /// </summary>
    public static StepAttemptRef Hold { get; } = new(FlakyStep, 2);

    /// <summary>True once <c>plan</c> and <c>tool:search-web</c> completed and the flaky tool has a failed attempt journaled.</summary>
    public static bool Reached(IReadOnlyList<JournalEntry> journal) =>
        Completed(journal, "plan") && Completed(journal, "tool:search-web") &&
        journal.Any(e => e.Kind == JournalEntryKind.StepAttemptFailed && e.Name == FlakyStep);

    /// <summary>The steps whose completion is journaled, in order.</summary>
    public static IReadOnlyList<string> CompletedSteps(IReadOnlyList<JournalEntry> journal) =>
        [.. journal.Where(e => e.Kind == JournalEntryKind.StepCompleted).Select(e => e.Name)];

    /// <summary>"plan ✓, tool:search-web ✓, tool:fetch-pricing attempt 1 failed".</summary>
    public static string Describe(IReadOnlyList<JournalEntry> journal)
    {
        var parts = new List<string>();
        foreach (var step in journal.Where(e => e.Sequence > 0).GroupBy(e => (e.Sequence, e.Name)))
        {
            var last = step.Last();
            parts.Add(last.Kind switch
            {
                JournalEntryKind.StepCompleted => $"{step.Key.Name} ✓",
                JournalEntryKind.StepAttemptFailed => $"{step.Key.Name} attempt {last.Attempt} failed",
                JournalEntryKind.StepFailed => $"{step.Key.Name} failed",
                _ => $"{step.Key.Name} {last.Kind}",
            });
        }
        return parts.Count == 0 ? "nothing" : string.Join(", ", parts);
    }

    private static bool Completed(IReadOnlyList<JournalEntry> journal, string step) =>
        journal.Any(e => e.Kind == JournalEntryKind.StepCompleted && e.Name == step);
}
