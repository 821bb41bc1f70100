using System.Globalization;

namespace Keel.Cli.Output;

/// <summary>
/// Prints a run's journal as a timeline (one row per entry, times relative to the run's start) and then, from its
/// history, per step, so retries read as a story: "attempt 1 failed (...), retried at +1.2s; attempt 2 completed".
/// </summary>
internal static class TimelineView
{
    public static void Write(TextWriter writer, RunHistory history, IReadOnlyList<JournalEntry> journal, DateTimeOffset origin)
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
                TimeFormat.Relative(entry.RecordedAt, origin),
                entry.Kind.ToString(),
                entry.Name,
                entry.Attempt > 0 ? entry.Attempt.ToString(CultureInfo.InvariantCulture) : "",
                entry.StartedAt is { } started ? TimeFormat.Duration(entry.RecordedAt - started) : "",
                Detail(entry, origin));
        }
        table.Write(writer, "  ");
        writer.WriteLine();
        writer.WriteLine("Steps");
        foreach (var line in StepStories(history, origin))
        {
            writer.WriteLine($"  {line}");
        }
    }

    /// <summary>One line per step (by position), then one per other operation's event and per run-level event, in journal order.</summary>
    public static IEnumerable<string> StepStories(RunHistory history, DateTimeOffset origin)
    {
        // A step an approval gated (its request named the step as its action) says who let it run.
        var gates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var decision in history.Decisions.Where(d => d.Kind == DecisionKind.Approval))
        {
            if (history.FindOperation(decision.Position)?.Approval?.Action is { } action)
            {
                gates[action] = $"gated by approval '{decision.Name}': {ApprovalText.Decision(decision)}";
            }
        }
        foreach (var step in history.Operations.Where(o => o.Kind == OperationKind.Step))
        {
            var gate = gates.TryGetValue(step.Name, out var g) ? $" [{g}]" : "";
            yield return $"{step.Name}: {string.Join("; ", StepStory(history, step, origin))}{gate}";
        }
        var others = new List<(long Index, string Line)>();
        foreach (var operation in history.Operations.Where(o => o.Kind != OperationKind.Step))
        {
            others.AddRange(OperationStory(history, operation, origin).Select(e => (e.Index, $"{operation.Name}: {e.Text} at {TimeFormat.Relative(e.At, origin)}")));
        }
        var runName = history.Run?.WorkflowName ?? "run";
        others.AddRange(history.Events.Select(e => (e.Index, $"{runName}: {RunEvent(e)} at {TimeFormat.Relative(e.At, origin)}")));
        others.AddRange(history.Decisions.Where(d => d.Kind == DecisionKind.OperatorAction)
            .Select(d => (d.Index, $"{runName}: {OperatorAction(d)} at {TimeFormat.Relative(d.At, origin)}")));
        others.AddRange(history.Decisions.Where(d => d.Kind == DecisionKind.ToolChoice)
            .Select(d => (d.Index, $"{runName}: {(d.By is { } model ? $"model {model}" : "the model")} chose tool {d.Name}" +
                                   (d.ProposedArguments is { } args ? $" with {ErrorText.Truncate(args.GetRawText(), 80)}" : "") +
                                   $" at {TimeFormat.Relative(d.At, origin)}")));
        foreach (var (_, line) in others.OrderBy(o => o.Index))
        {
            yield return line;
        }
    }

    /// <summary>A step's attempts, requests for attention and resolutions, in journal order.</summary>
    private static IEnumerable<string> StepStory(RunHistory history, RunOperation step, DateTimeOffset origin)
    {
        var parts = new List<(long Index, int Rank, string Text)>();
        parts.AddRange(step.Attentions.Select(a => (a.Index, 0, $"NEEDS ATTENTION at {TimeFormat.Relative(a.Since, origin)}: {ErrorText.Truncate(AttentionText.OneLine(a), 200)}")));
        parts.AddRange(history.Decisions.Where(d => d.Kind == DecisionKind.StepResolution && d.Position == step.Position)
            .Select(d => (d.Index, 1, $"resolved at {TimeFormat.Relative(d.At, origin)}: {Resolution(d)}")));
        parts.AddRange(step.Attempts.Select(a => (a.Index, 2, Attempt(a, origin))));
        return parts.OrderBy(p => p.Index).ThenBy(p => p.Rank).Select(p => p.Text);
    }

    private static string Attempt(StepAttempt attempt, DateTimeOffset origin)
    {
        var ended = attempt.EndedAt is { } end ? TimeFormat.Relative(end, origin) : "?";
        var took = attempt.StartedAt is { } started && attempt.EndedAt is { } e ? $", took {TimeFormat.Duration(e - started)}" : "";
        var started2 = attempt.StartedAt is { } s ? TimeFormat.Relative(s, origin) : "?";
        return attempt.Outcome switch
        {
            AttemptOutcome.Completed => $"attempt {attempt.Number} completed at {ended}{took}",
            AttemptOutcome.Failed => $"attempt {attempt.Number} failed ({Error(attempt.Error)})" +
                                     (attempt.RetryAt is { } at ? $", retried at {TimeFormat.Relative(at, origin)}" : ""),
            AttemptOutcome.FailedForGood => $"attempt {attempt.Number} failed for good ({Error(attempt.Error)}) at {ended}",
            AttemptOutcome.Unknown => $"attempt {attempt.Number} started at {started2} (at most once), outcome unknown",
            _ => $"attempt {attempt.Number} started at {started2}{(attempt.AtMostOnce ? " (at most once)" : "")}",
        };
    }

    private static string Resolution(RunDecision decision)
    {
        var action = decision.Action?.ToString().ToLowerInvariant() ?? "?";
        var result = decision.Action == ResolutionAction.Complete && decision.Result is { } r ? $" with {ErrorText.Truncate(r.GetRawText(), 80)}" : "";
        return $"{action}{result} by {decision.By ?? "someone"}{(decision.Reason is { } why ? $" ({ErrorText.OneLine(why)})" : "")}";
    }

    /// <summary>What happened to a timer, signal wait, approval or child run, each with its journal index.</summary>
    private static IEnumerable<(long Index, DateTimeOffset At, string Text)> OperationStory(RunHistory history, RunOperation operation, DateTimeOffset origin)
    {
        if (operation.Approval is { } request)
        {
            yield return (operation.FirstIndex, request.RequestedAt, $"approval requested: {ApprovalText.Request(request)}");
        }
        if (operation.ChildRunId is { } child && operation.StartedAt is { } childStarted)
        {
            yield return (operation.FirstIndex, childStarted, $"child run started: {child} (keel show {Shell.Quote(child)})");
        }
        if (operation.Kind is OperationKind.Timer or OperationKind.Signal && operation.StartedAt is { } waitStarted)
        {
            var due = operation.Wait?.DueAt is { } d ? $" (due {TimeFormat.Relative(d, origin)})" : "";
            yield return (operation.FirstIndex, waitStarted, operation.Kind == OperationKind.Timer ? $"timer started{due}" : $"waiting for the signal{due}");
        }
        foreach (var rejected in operation.RejectedSignals)
        {
            yield return (rejected.Index, rejected.At, $"signal set aside, the wait goes on ({Error(rejected.Error)})");
        }
        foreach (var decision in history.Decisions.Where(d => d.Kind == DecisionKind.Approval && d.Position == operation.Position))
        {
            yield return (decision.Index, operation.EndedAt ?? decision.At, ApprovalText.Decision(decision));
        }
        if (operation.EndedAt is not { } ended || operation.Kind == OperationKind.Approval)
        {
            yield break;
        }
        var value = operation.Result is { } v ? $" ({ErrorText.Truncate(ErrorText.OneLine(v.GetRawText()), 80)})" : "";
        var text = (operation.Kind, operation.State) switch
        {
            (OperationKind.Timer, _) => "timer fired",
            (OperationKind.Signal, OperationState.Completed) => $"signal received{value}",
            (OperationKind.Signal, _) => "wait for the signal timed out",
            (OperationKind.ChildRun, OperationState.Completed) => $"child run completed{value}",
            (OperationKind.ChildRun, _) => $"child run ended without a result ({Error(operation.Error)})",
            _ => operation.State.ToString().ToLowerInvariant(),
        };
        yield return (operation.LastIndex, ended, text);
    }

    private static string RunEvent(RunEvent e) => e.Kind switch
    {
        RunEventKind.Completed => "run completed",
        RunEventKind.Failed => $"run failed ({Error(e.Error)})",
        RunEventKind.Cancelled => "run cancelled",
        RunEventKind.Blocked => $"run blocked ({Error(e.Error)})",
        RunEventKind.CancelDelivered => "cancellation delivered to the workflow",
        RunEventKind.Unblocked => $"run unblocked{(e.By is { } by ? $" by {by}" : "")}{(e.Reason is { } why ? $": {ErrorText.OneLine(why)}" : "")}",
        RunEventKind.ContinuedAsNew => $"run continued as new run {e.RunId ?? "?"} (keel show {Shell.Quote(e.RunId ?? "?")})",
        RunEventKind.Retried => $"run retried{(e.By is { } by ? $" by {by}" : "")}{(e.Reason is { } why ? $": {ErrorText.OneLine(why)}" : "")}: it continues from the step that failed",
        RunEventKind.ForkedFrom => $"forked from run {e.RunId ?? "?"} {e.Reason}{(e.By is { } by ? $" by {by}" : "")} (keel show {Shell.Quote(e.RunId ?? "?")})",
        RunEventKind.ForkedTo => $"forked as run {e.RunId ?? "?"} {e.Reason}{(e.By is { } by ? $" by {by}" : "")} (keel show {Shell.Quote(e.RunId ?? "?")})",
        RunEventKind.Claimed => $"worker {Worker(e.Worker)} took the run",
        RunEventKind.TakenOver => $"worker {e.PreviousWorker} stopped without letting go (crashed, killed or stalled); worker {Worker(e.Worker)} took the run over",
        RunEventKind.Released => $"worker {e.Worker?.Id} let go of the run: {Released(e)}",
        _ => e.Kind.ToString(),
    };

    private static string OperatorAction(RunDecision d) =>
        (d.Name switch
        {
            "pause" => "pause asked",
            "resume" => "resumed",
            "cancel" => "cancel asked",
            "priority" => $"priority set to {d.Result?.GetRawText() ?? "?"}",
            "signal" => $"signal '{d.SignalName}' sent",
            var other => other,
        }) + (d.By is { } by ? $" by {by}" : "") + (d.Reason is { } why ? $": {ErrorText.OneLine(why)}" : "");

    private static string Worker(WorkerRef? worker) => worker is null ? "?"
        : worker.Host is null ? worker.Id
        : $"{worker.Id} (host {worker.Host}{(worker.Pid is { } pid ? $", pid {pid}" : "")}{(worker.Build is { } build ? $", build {build}" : "")})";

    private static string Released(RunEvent e) => e.Status switch
    {
        null => "handed back (its worker was stopping)",
        RunStatus.Paused => "paused",
        RunStatus.Running or RunStatus.Pending => "to try again later" + (e.DueAt is { } due ? $" (due {TimeFormat.Timestamp(due)})" : ""),
        var status => ErrorText.OneLine(e.Reason ?? status.ToString()!) + (e.DueAt is { } due ? $" (due {TimeFormat.Timestamp(due)})" : ""),
    };

    private static string Error(ErrorInfo? error) =>
        error is not null ? ErrorText.Truncate(ErrorText.Describe(error), 160) : "no error recorded";

    /// <summary>The entry's error (with when it is retried), or else its payload, in one short line.</summary>
    private static string Detail(JournalEntry entry, DateTimeOffset origin) =>
        entry.RetryAt is { } at ? $"{Error(entry.Error)}; retry at {TimeFormat.Relative(at, origin)}"
        : entry.Error is { } error ? Error(error)
        : entry.Payload is { } payload ? ErrorText.Truncate(ErrorText.OneLine(payload), 80) : "";
}
