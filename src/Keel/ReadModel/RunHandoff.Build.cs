using System.Globalization;
using System.Text.Json;

namespace Keel;

public sealed partial record RunHandoff
{
    private const int SummaryLength = 100;

    /// <summary>Hands a run over: builds its handoff from its history (which must carry the run: <see cref="RunHistory.Run"/>).</summary>
    /// <param name="history">The run's history, as <see cref="KeelClient.GetHistoryAsync"/> gives it.</param>
    /// <returns>The handoff.</returns>
    /// <exception cref="ArgumentException">The history was built without the run.</exception>
    public static RunHandoff From(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var run = history.Run ?? throw new ArgumentException("The history must carry its run (RunHistory.Build(run, journal)).", nameof(history));
        var holders = Holders(history);
        var input = RunHistory.Json(run.Input);
        return new RunHandoff
        {
            Goal = new HandoffGoal
            {
                RunId = run.RunId, Workflow = run.WorkflowName, Input = input, InputSummary = input is { } value ? Short(value) : "null",
                CreatedAt = run.CreatedAt, ParentRunId = run.ParentRunId, BuildId = run.BuildId,
            },
            State = StateOf(history, run, holders),
            Ran = [.. history.Operations.Select(o => RanOf(o, holders))],
            Decided = [.. history.Decisions.Select(DecidedOf)],
            Failed = FailuresOf(history, run),
            Remains = RemainsOf(history),
            Next = NextOf(history, run),
        };
    }

    // ---- State ------------------------------------------------------------------------------------------------------

    private static HandoffState StateOf(RunHistory history, RunInfo run, List<(long Index, string? Worker)> holders)
    {
        var holder = holders.Count > 0 && holders[^1].Worker is { } id
            ? history.Events.LastOrDefault(e => e.Kind is RunEventKind.Claimed or RunEventKind.TakenOver && e.Worker?.Id == id)?.Worker
            : null;
        var state = new HandoffState
        {
            Status = run.Status, Summary = "", Waits = history.Waits, Attention = run.Status == RunStatus.NeedsAttention ? history.Attention : null,
            Error = run.Status is RunStatus.Failed or RunStatus.Blocked ? run.Error : null,
            Doing = run.Status.IsTerminal() ? null : run.CustomStatus ?? (history.Statuses.Count > 0 ? history.Statuses[^1] : null), Worker = run.Status.IsTerminal() ? null : holder,
            Result = run.Status == RunStatus.Completed ? RunHistory.Json(run.Result) : null, ContinuedAs = run.ContinuedAsRunId,
        };
        var (summary, since) = Describe(history, run, state);
        return state with { Summary = summary, Since = since };
    }

    private static (string Summary, DateTimeOffset? Since) Describe(RunHistory history, RunInfo run, HandoffState state)
    {
        var lastAction = (string name) => history.Decisions.LastOrDefault(d => d.Kind == DecisionKind.OperatorAction && d.Name == name);
        switch (run.Status)
        {
            case RunStatus.Pending:
                return ("pending: waiting for a worker that serves this workflow to take it", run.CreatedAt);
            case RunStatus.Running:
                var doing = state.Doing is { } d ? $": {d.Text}{Progress(d)}" : "";
                var running = state.Worker is { } w ? $"running on worker {w.Id}{doing}" : $"running{doing}";
                return history.Waits.FirstOrDefault(w => w.Kind == WaitKind.Retry) is { } retry
                    ? ($"{running}; step '{retry.Name}' is retried at {Time(retry.DueAt)}", retry.Since ?? run.UpdatedAt)
                    : (running, run.UpdatedAt);
            case RunStatus.Waiting when history.Waits.Count > 0:
                return (string.Join("; ", history.Waits.Select(WaitText)), history.Waits.Min(w => w.Since));
            case RunStatus.Waiting:
                return ("waiting" + (run.StatusReason is { } reason ? $": {reason}" : ""), run.UpdatedAt);
            case RunStatus.NeedsAttention when history.Attention is { } attention:
                return ($"needs a person's decision on step '{attention.Step}': {OneLine(attention.Reason.ToString())}", attention.Since);
            case RunStatus.NeedsAttention:
                return ("needs a person's decision" + (run.StatusReason is { } why ? $": {why}" : ""), run.UpdatedAt);
            case RunStatus.Paused:
                var paused = lastAction("pause");
                return ($"paused{By(paused)}; it stays paused until resumed", paused?.At ?? run.UpdatedAt);
            case RunStatus.Blocked:
                return ($"blocked: {OneLine(run.Error?.Message ?? run.StatusReason ?? "no reason recorded")}", run.UpdatedAt);
            case RunStatus.Completed when run.ContinuedAsRunId is { } next:
                return ($"continued as run '{next}' (this run's part is done)", run.CompletedAt);
            case RunStatus.Completed:
                return ($"completed with {(state.Result is { } result ? Short(result) : "null")}", run.CompletedAt);
            case RunStatus.Failed:
                return ($"failed: {OneLine(run.Error?.Message ?? "no error recorded")}", run.CompletedAt);
            case RunStatus.Cancelled:
                return ($"cancelled{By(lastAction("cancel"))}", run.CompletedAt);
            default:
                return (run.Status.ToString(), run.UpdatedAt);
        }
    }

    /// <summary>What a wait waits for, in a phrase a person reads: "waiting for signal 'invoice-paid' since …".</summary>
    /// <param name="wait">The wait.</param>
    /// <returns>The phrase.</returns>
    public static string WaitText(OperationWait wait)
    {
        var since = wait.Since is { } at ? $" since {Time(at)}" : "";
        return wait.Kind switch
        {
            WaitKind.Signal => $"waiting for signal '{wait.SignalName ?? wait.Name}'{since}" + (wait.DueAt is { } due ? $" (times out {Time(due)})" : ""),
            WaitKind.Timer => $"waiting for timer '{wait.Name}' until {Time(wait.DueAt)}{since}",
            WaitKind.Approval => $"waiting for a decision on approval '{wait.Title ?? wait.Name}'{since}" + (wait.DueAt is { } deadline ? $" (deadline {Time(deadline)})" : ""),
            WaitKind.ChildRun => $"waiting for child run '{wait.ChildRunId}'{since}",
            WaitKind.Retry => $"step '{wait.Name}' is retried at {Time(wait.DueAt)}",
            _ => $"waiting for a person's decision on step '{wait.Name}'{since}",
        };
    }

    private static string Progress(RunCustomStatus status) =>
        status.Progress is { } p ? string.Create(CultureInfo.InvariantCulture, $" ({p.Done} of {p.Total})") : "";

    private static string By(RunDecision? action) => action is null ? ""
        : $" by {action.By ?? "someone"} at {Time(action.At)}" + (action.Reason is { } why ? $" ({OneLine(why)})" : "");

    // ---- Ran, decided ------------------------------------------------------------------------------------------------

    /// <summary>The worker that held the run after each claim, by journal index (null after a release or an end).</summary>
    private static List<(long Index, string? Worker)> Holders(RunHistory history)
    {
        var holders = new List<(long, string?)>();
        foreach (var e in history.Events.OrderBy(e => e.Index))
        {
            if (e.Kind is RunEventKind.Claimed or RunEventKind.TakenOver)
            {
                holders.Add((e.Index, e.Worker?.Id));
            }
            else if (e.Kind is RunEventKind.Released or RunEventKind.Completed or RunEventKind.Failed or RunEventKind.Cancelled
                     or RunEventKind.Blocked or RunEventKind.ContinuedAsNew)
            {
                holders.Add((e.Index, null));
            }
        }
        return holders;
    }

    private static string? HolderAt(List<(long Index, string? Worker)> holders, long index)
    {
        string? holder = null;
        foreach (var (at, worker) in holders)
        {
            if (at > index)
            {
                break;
            }
            holder = worker;
        }
        return holder;
    }

    private static HandoffStep RanOf(RunOperation operation, List<(long Index, string? Worker)> holders) => new()
    {
        Position = operation.Position, Kind = operation.Kind, Name = operation.Name, State = operation.State, Attempts = operation.Attempts.Count,
        StartedAt = operation.StartedAt, EndedAt = operation.EndedAt, Summary = OperationSummary(operation),
        Worker = HolderAt(holders, operation.LastIndex),
    };

    private static string OperationSummary(RunOperation operation)
    {
        var attempts = operation.Attempts.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" after {operation.Attempts.Count} attempts") : "";
        return operation.State switch
        {
            OperationState.Completed when operation.Kind == OperationKind.Timer => "fired",
            OperationState.Completed when operation.Kind == OperationKind.Approval => "decided",
            OperationState.Completed => (operation.Result is { } result ? $"gave {Short(result)}" : "done") + attempts,
            OperationState.Failed => $"failed{attempts}: {OneLine(operation.Error?.Message ?? "no error recorded")}",
            OperationState.Cancelled => "ended with the run, without an outcome",
            OperationState.NeedsAttention => "waits for a person's decision",
            OperationState.Waiting when operation.Wait is { } wait => WaitText(wait),
            OperationState.Waiting => "waiting",
            _ => operation.Attempts.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"running (attempt {operation.Attempts[^1].Number})") : "running",
        };
    }

    private static HandoffDecision DecidedOf(RunDecision decision) => new()
    {
        Kind = decision.Kind, Position = decision.Position, Name = decision.Name, At = decision.At, By = decision.By, Reason = decision.Reason,
        Summary = decision.Kind switch
        {
            DecisionKind.Approval => (decision.Outcome switch
            {
                ApprovalOutcome.Approved => "approved",
                ApprovalOutcome.Rejected => "rejected",
                ApprovalOutcome.Expired => "expired without a decision",
                _ => "decided",
            }) + (decision.Option is { } option ? $" (option '{option}')" : "") + (decision.EditedArguments is not null ? " with edited arguments" : ""),
            DecisionKind.StepResolution => decision.Action switch
            {
                ResolutionAction.Retry => "run the step again",
                ResolutionAction.Complete => $"completed the step with {(decision.Result is { } result ? Short(result) : "null")}",
                ResolutionAction.Fail => "failed the step",
                _ => "resolved",
            },
            DecisionKind.Unblock => "unblocked the run",
            DecisionKind.Retry => "retried the failed run",
            DecisionKind.ToolChoice => $"{(decision.By is { } model ? $"the model {model}" : "the model")} chose to call {decision.Name}" +
                                       (decision.ProposedArguments is { } args ? $" with {Short(args)}" : ""),
            _ => decision.Name switch
            {
                "pause" => "paused the run",
                "resume" => "resumed the run",
                "cancel" => "cancelled the run",
                "priority" when decision.Result is { } priority => $"set the priority to {priority.GetRawText()}",
                "signal" => $"sent signal '{decision.SignalName}'",
                var action => $"{action} (an operator action)",
            },
        },
        Changes = decision.EditedArguments is { } edited ? Diff(decision.ProposedArguments, edited) : [],
    };

    /// <summary>What changed from the proposed arguments to the approved ones, value by value.</summary>
    private static List<ArgumentChange> Diff(JsonElement? from, JsonElement to)
    {
        var changes = new List<ArgumentChange>();
        Walk("$", from, to);
        return changes;

        void Walk(string path, JsonElement? a, JsonElement? b)
        {
            if (a is { ValueKind: JsonValueKind.Object } x && b is { ValueKind: JsonValueKind.Object } y)
            {
                var right = y.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                foreach (var property in x.EnumerateObject())
                {
                    Walk($"{path}.{property.Name}", property.Value, right.TryGetValue(property.Name, out var value) ? value : null);
                    right.Remove(property.Name);
                }
                foreach (var (name, value) in right)
                {
                    changes.Add(new ArgumentChange($"{path}.{name}", null, value));
                }
                return;
            }
            if (a is { ValueKind: JsonValueKind.Array } xs && b is { ValueKind: JsonValueKind.Array } ys && xs.GetArrayLength() == ys.GetArrayLength())
            {
                for (var i = 0; i < xs.GetArrayLength(); i++)
                {
                    Walk(string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), xs[i], ys[i]);
                }
                return;
            }
            if (a is null || b is null || !JsonElement.DeepEquals(a.Value, b.Value))
            {
                changes.Add(new ArgumentChange(path, a, b));
            }
        }
    }

    // ---- Failed ------------------------------------------------------------------------------------------------------

    private static List<HandoffFailure> FailuresOf(RunHistory history, RunInfo run)
    {
        var failures = new List<(long Index, HandoffFailure Failure)>();
        foreach (var operation in history.Operations)
        {
            foreach (var attempt in operation.Attempts.Where(a => a.Outcome is AttemptOutcome.Failed or AttemptOutcome.FailedForGood))
            {
                failures.Add((attempt.Index, new HandoffFailure
                {
                    Kind = FailureKind.Attempt, Position = operation.Position, Name = operation.Name, Attempt = attempt.Number, At = attempt.EndedAt,
                    Error = attempt.Error ?? new ErrorInfo("Unknown", "no error recorded"),
                    Recovered = attempt.Outcome == AttemptOutcome.Failed && (operation.State == OperationState.Completed || attempt.Number < operation.Attempts[^1].Number),
                }));
            }
            if (operation.Kind != OperationKind.Step && operation.State == OperationState.Failed)
            {
                failures.Add((operation.LastIndex, new HandoffFailure
                {
                    Kind = FailureKind.Operation, Position = operation.Position, Name = operation.Name, At = operation.EndedAt,
                    Error = operation.Error ?? new ErrorInfo("Unknown", "no error recorded"),
                }));
            }
        }
        var events = history.Events;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var later = events.Skip(i + 1);
            switch (e.Kind)
            {
                case RunEventKind.TakenOver:
                    failures.Add((e.Index, new HandoffFailure
                    {
                        Kind = FailureKind.Worker, Name = e.PreviousWorker ?? "?", At = e.At, Recovered = true,
                        Error = new ErrorInfo("Keel.WorkerStopped", $"Worker {e.PreviousWorker} stopped while it held the run (crashed, killed or stalled); " +
                                                                    $"worker {e.Worker?.Id} took the run over at {Time(e.At)} and continued from the journal."),
                    }));
                    break;
                case RunEventKind.Failed or RunEventKind.Blocked:
                    failures.Add((e.Index, new HandoffFailure
                    {
                        Kind = FailureKind.Run, Name = run.WorkflowName, At = e.At,
                        Error = e.Error ?? run.Error ?? new ErrorInfo("Unknown", "no error recorded"),
                        Recovered = later.Any(l => l.Kind is RunEventKind.Retried or RunEventKind.Unblocked),
                    }));
                    break;
            }
        }
        return [.. failures.OrderBy(f => f.Index).Select(f => f.Failure)];
    }

    // ---- Remains -----------------------------------------------------------------------------------------------------

    private static HandoffRemains RemainsOf(RunHistory history)
    {
        var open = history.Operations.Where(o => o.State is OperationState.Running or OperationState.Waiting or OperationState.NeedsAttention)
            .Select(o => o.Name).ToList();
        if (history.Ended)
        {
            var skipped = history.Run?.Status != RunStatus.Completed && history.Remaining is { Count: > 0 } left ? left : [];
            return new HandoffRemains
            {
                Known = true, Items = skipped,
                Summary = skipped.Count > 0 ? $"nothing will run: the run has ended; never done from its plan: {string.Join(", ", skipped)}" : "nothing: the run has ended",
            };
        }
        if (history.Remaining is { } remaining)
        {
            return new HandoffRemains
            {
                Known = true, Items = remaining, Open = open,
                Summary = remaining.Count == 0 ? "every item of the run's plan is done; the code may still finish up"
                    : string.Create(CultureInfo.InvariantCulture, $"{remaining.Count} of {history.Plan!.Count} planned items: {string.Join(", ", remaining)}"),
            };
        }
        return new HandoffRemains
        {
            Known = false, Open = open,
            Summary = "unknown until the code runs: the run declared no plan (context.Plan)" + (open.Count > 0 ? $"; open now: {string.Join(", ", open)}" : ""),
        };
    }

    // ---- Next --------------------------------------------------------------------------------------------------------

    private static List<HandoffAction> NextOf(RunHistory history, RunInfo run)
    {
        var next = new List<HandoffAction>();
        if (run.Status == RunStatus.NeedsAttention && history.Attention is { } attention)
        {
            var precondition = attention.Reason.Kind == AttentionKind.PreconditionNotMet;
            next.Add(new HandoffAction
            {
                Kind = HandoffActionKind.Resolve, Resolution = ResolutionAction.Retry,
                Description = precondition ? $"Run step '{attention.Step}' although its precondition did not hold."
                    : $"Run step '{attention.Step}' again: its effect did not happen (the unknown attempt counts as failed).",
            });
            next.Add(new HandoffAction
            {
                Kind = HandoffActionKind.Resolve, Resolution = ResolutionAction.Complete, Needs = "result",
                Description = $"Complete step '{attention.Step}' with its result (JSON) without running it{(precondition ? "" : ": its effect happened")}.",
            });
            next.Add(new HandoffAction
            {
                Kind = HandoffActionKind.Resolve, Resolution = ResolutionAction.Fail, Needs = "reason",
                Description = $"Fail step '{attention.Step}' for good; the workflow sees the reason.",
            });
        }
        if (!run.Status.IsTerminal() && run.Status != RunStatus.Blocked)
        {
            foreach (var wait in history.Waits)
            {
                switch (wait.Kind)
                {
                    case WaitKind.Approval:
                        next.Add(new HandoffAction { Kind = HandoffActionKind.Approve, Name = wait.Name, Description = $"Approve '{wait.Title ?? wait.Name}' (the arguments may be edited)." });
                        next.Add(new HandoffAction { Kind = HandoffActionKind.Reject, Name = wait.Name, Needs = "reason", Description = $"Reject '{wait.Title ?? wait.Name}'; the workflow sees the comment." });
                        break;
                    case WaitKind.Signal:
                        next.Add(new HandoffAction
                        {
                            Kind = HandoffActionKind.Signal, Name = wait.SignalName ?? wait.Name, Needs = "payload",
                            Description = $"Send signal '{wait.SignalName ?? wait.Name}' with its payload (JSON of the type the run waits for).",
                        });
                        break;
                    case WaitKind.ChildRun when wait.ChildRunId is { } child:
                        next.Add(new HandoffAction { Kind = HandoffActionKind.Inspect, RunId = child, Description = $"Look at child run '{child}': this run goes on when it ends." });
                        break;
                }
            }
        }
        switch (run.Status)
        {
            case RunStatus.Blocked:
                next.Add(new HandoffAction { Kind = HandoffActionKind.Unblock, Needs = "reason", Description = "Let the run continue where it stopped, once its cause is fixed (deploy code that matches its journal, fix the crash)." });
                break;
            case RunStatus.Failed when run.ParentRunId is null:
                next.Add(new HandoffAction
                {
                    Kind = HandoffActionKind.Retry, Needs = "reason",
                    Description = "Retry the run from the step whose failure ended it, with a fresh attempt budget (its failures stay in the journal).",
                });
                break;
            case RunStatus.Paused:
                next.Add(new HandoffAction { Kind = HandoffActionKind.Resume, Description = "Resume the run: any worker continues it where it stopped." });
                break;
            case RunStatus.Completed when run.ContinuedAsRunId is { } successor:
                next.Add(new HandoffAction { Kind = HandoffActionKind.Inspect, RunId = successor, Description = $"Look at run '{successor}': the work goes on there." });
                break;
        }
        if (!run.Status.IsTerminal())
        {
            if (run.Status is RunStatus.Pending or RunStatus.Running or RunStatus.Waiting)
            {
                next.Add(new HandoffAction { Kind = HandoffActionKind.Pause, Description = "Pause the run before its next operation (a step in flight finishes and is kept)." });
            }
            next.Add(new HandoffAction { Kind = HandoffActionKind.Cancel, Needs = "reason", Description = "Cancel the run: its cleanup runs and it ends Cancelled." });
        }
        return next;
    }

    // ---- Text --------------------------------------------------------------------------------------------------------

    private static string Time(DateTimeOffset? at) => at is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "an unknown time";

    private static string OneLine(string text) => Truncate(text.ReplaceLineEndings(" ").Trim(), 200);

    /// <summary>A JSON value in one short line: compact, and readable (no \u0027 for a quote).</summary>
    private static string Short(JsonElement value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            value.WriteTo(writer);
        }
        return Truncate(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan).ReplaceLineEndings(" "), SummaryLength);
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
