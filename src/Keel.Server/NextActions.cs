using System.Text.Json.Nodes;

namespace Keel.Server;

/// <summary>One call of this API that a person (or a script) can make next for a run.</summary>
/// <param name="Action">What it does, in one word: <c>resolve</c>, <c>approve</c>, <c>reject</c>, <c>unblock</c>, <c>retry</c>, <c>resume</c>, <c>signal</c>.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path to call.</param>
/// <param name="Body">A body to send (edit the values in capitals), if the call takes one.</param>
/// <param name="What">What the call will change, in words.</param>
internal sealed record ApiAction(string Action, string Method, string Path, JsonObject? Body, string What);

/// <summary>
/// What can be done next for a run, in the API's terms: the HTTP rendering of the read model's open attention, waits
/// and state (the CLI renders the same facts as <c>keel</c> commands, the dashboard as buttons).
/// </summary>
internal static class NextActions
{
    public static IReadOnlyList<ApiAction> For(RunHistory history, string runPath)
    {
        var actions = new List<ApiAction>();
        var status = history.Run?.Status;
        if (history.Attention is { } attention && status == RunStatus.NeedsAttention)
        {
            actions.AddRange(Resolve(attention, runPath));
        }
        foreach (var wait in history.Waits)
        {
            switch (wait.Kind)
            {
                case WaitKind.Approval:
                    actions.Add(new ApiAction("approve", "POST", $"{runPath}/approvals", new JsonObject { ["approved"] = true, ["name"] = wait.Name, ["by"] = "WHO", ["comment"] = "WHY" },
                        $"Approve '{wait.Title ?? wait.Name}' (send \"arguments\" to change what is approved)."));
                    actions.Add(new ApiAction("reject", "POST", $"{runPath}/approvals", new JsonObject { ["approved"] = false, ["name"] = wait.Name, ["by"] = "WHO", ["comment"] = "WHY" },
                        $"Reject '{wait.Title ?? wait.Name}'."));
                    break;
                case WaitKind.Signal when wait.SignalName is { } signal:
                    actions.Add(new ApiAction("signal", "POST", $"{runPath}/signals/{Uri.EscapeDataString(signal)}", null,
                        $"Send signal '{signal}' (the body is its payload, of the type the run waits for)."));
                    break;
            }
        }
        if (status == RunStatus.Blocked)
        {
            actions.Add(new ApiAction("unblock", "POST", $"{runPath}/unblock", new JsonObject { ["by"] = "WHO", ["reason"] = "WHAT WAS FIXED" },
                "Let the run continue where it stopped, once its cause is fixed."));
        }
        if (status == RunStatus.Failed && history.Run?.ParentRunId is null)
        {
            actions.Add(new ApiAction("retry", "POST", $"{runPath}/retry", new JsonObject { ["by"] = "WHO", ["reason"] = "WHAT WAS FIXED" },
                "Retry the run from the step whose failure ended it, with a fresh attempt budget (its failures stay in the journal)."));
        }
        if (status == RunStatus.Paused)
        {
            actions.Add(new ApiAction("resume", "POST", $"{runPath}/resume", null, "Resume the paused run."));
        }
        return actions;
    }

    /// <summary>The three decisions on a step that waits for a person.</summary>
    public static IEnumerable<ApiAction> Resolve(StepAttention attention, string runPath)
    {
        var path = $"{runPath}/resolve";
        var precondition = attention.Reason.Kind == AttentionKind.PreconditionNotMet;
        yield return new ApiAction("resolve", "POST", path, new JsonObject { ["action"] = "retry", ["by"] = "WHO", ["reason"] = "WHY" },
            precondition ? $"Run step '{attention.Step}' although its precondition did not hold."
                         : $"Run step '{attention.Step}' again: its effect did not happen (the unknown attempt counts as failed).");
        yield return new ApiAction("resolve", "POST", path, new JsonObject { ["action"] = "complete", ["result"] = "RESULT", ["by"] = "WHO", ["reason"] = "WHY" },
            $"Complete step '{attention.Step}' with its result (any JSON) without running it{(precondition ? "" : ": its effect happened")}.");
        yield return new ApiAction("resolve", "POST", path, new JsonObject { ["action"] = "fail", ["reason"] = "WHY", ["by"] = "WHO" },
            $"Fail step '{attention.Step}' for good; the workflow sees the reason.");
    }

    /// <summary>The sentence a problem response adds for a run that waits for a person's decision.</summary>
    public static string ResolveHint(StepAttention attention, string runPath) =>
        $"Step '{attention.Step}' of this run waits for a person's decision: POST {runPath}/resolve with " +
        """{"action":"retry"|"complete"|"fail",...}.""";
}
