using System.Globalization;

namespace Keel.Cli.Demo;

/// <summary>When the demo kills its first worker, and how it describes what was done by then.</summary>
internal static class CrashPoint
{
    /// <summary>
    /// Worker 1's model call for turn 3 never returns, so it cannot get past the crash point however slowly the demo polls
    /// on a loaded machine: the kill always lands after the refund and before the reply.
    /// </summary>
    public static StepAttemptRef Hold { get; } = new($"{DemoAgent.ModelStepPrefix}3", 1);

    /// <summary>True once the refund tool's completion is journaled (the model is then asked for turn 3).</summary>
    public static bool Reached(IReadOnlyList<JournalEntry> journal) =>
        journal.Any(e => e.Kind == JournalEntryKind.StepCompleted && e.Name == "tool refund");

    /// <summary>The steps whose completion is journaled, in order.</summary>
    public static IReadOnlyList<string> CompletedSteps(IReadOnlyList<JournalEntry> journal) =>
        [.. journal.Where(e => e.Kind == JournalEntryKind.StepCompleted).Select(e => e.Name)];

    /// <summary>"model turn 1 ✓, tool lookup_customer ✓, model turn 2 ✓ (attempt 2), ...".</summary>
    public static string Describe(IReadOnlyList<JournalEntry> journal)
    {
        var parts = new List<string>();
        var turn = 0;
        foreach (var step in journal.Where(e => e.Sequence > 0).GroupBy(e => (e.Sequence, e.Name)))
        {
            var last = step.Last();
            var name = step.Key.Name.StartsWith("chat ", StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"model turn {++turn}")
                : step.Key.Name;
            parts.Add(last.Kind switch
            {
                JournalEntryKind.StepCompleted => last.Attempt > 1 ? $"{name} ✓ (attempt {last.Attempt})" : $"{name} ✓",
                JournalEntryKind.StepAttemptFailed => $"{name} attempt {last.Attempt} failed",
                JournalEntryKind.ApprovalDecided => $"approval of {name} decided",
                JournalEntryKind.ApprovalRequested => $"approval of {name} asked",
                _ => $"{name} {last.Kind}",
            });
        }
        return parts.Count == 0 ? "nothing" : string.Join(", ", parts);
    }
}
