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
    public static bool Reached(RunHistory history) => history.IsStepCompleted("tool refund");

    /// <summary>"model turn 1 ✓, tool lookup_customer ✓, model turn 2 ✓ (attempt 2), ...".</summary>
    public static string Describe(RunHistory history)
    {
        var parts = new List<string>();
        var turn = 0;
        foreach (var operation in history.Operations)
        {
            var name = operation.Kind == OperationKind.Step && operation.Name.StartsWith("chat ", StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"model turn {++turn}")
                : operation.Name;
            parts.Add(operation switch
            {
                { Kind: OperationKind.Approval, State: OperationState.Completed } => $"approval of {name} decided",
                { Kind: OperationKind.Approval } => $"approval of {name} asked",
                { State: OperationState.Completed, Attempts.Count: > 1 } => $"{name} ✓ (attempt {operation.Attempts.Count})",
                { State: OperationState.Completed } => $"{name} ✓",
                { Attempts: [.., { Outcome: AttemptOutcome.Failed } last] } => $"{name} attempt {last.Number} failed",
                _ => $"{name} {operation.State.ToString().ToLowerInvariant()}",
            });
        }
        return parts.Count == 0 ? "nothing" : string.Join(", ", parts);
    }
}
