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
    public static bool Reached(RunHistory history) =>
        history.IsStepCompleted("plan") && history.IsStepCompleted("tool:search-web") &&
        Steps(history).Any(s => s.Name == FlakyStep && s.Attempts.Any(a => a.Outcome == AttemptOutcome.Failed));

    /// <summary>The steps that completed, by position.</summary>
    public static IReadOnlyList<string> CompletedSteps(RunHistory history) =>
        [.. Steps(history).Where(s => s.State == OperationState.Completed).Select(s => s.Name)];

    /// <summary>"plan ✓, tool:search-web ✓, tool:fetch-pricing attempt 1 failed".</summary>
    public static string Describe(RunHistory history)
    {
        var parts = history.Operations.Select(operation => operation switch
        {
            { State: OperationState.Completed } => $"{operation.Name} ✓",
            { State: OperationState.Failed } => $"{operation.Name} failed",
            { Attempts: [.., { Outcome: AttemptOutcome.Failed } last] } => $"{operation.Name} attempt {last.Number} failed",
            _ => $"{operation.Name} {operation.State.ToString().ToLowerInvariant()}",
        }).ToList();
        return parts.Count == 0 ? "nothing" : string.Join(", ", parts);
    }

    private static IEnumerable<RunOperation> Steps(RunHistory history) => history.Operations.Where(o => o.Kind == OperationKind.Step);
}
