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
/// What can be done next for a run, in the API's terms: the HTTP rendering of the handoff's next actions
/// (<see cref="RunHandoff.Next"/>; the CLI renders the same actions as <c>keel</c> commands, the dashboard as buttons).
/// </summary>
internal static class NextActions
{
    public static IReadOnlyList<ApiAction> For(RunHandoff handoff, string runPath) => [.. handoff.Next.Select(a => For(a, runPath))];

    public static ApiAction For(HandoffAction action, string runPath)
    {
        var who = new JsonObject { ["by"] = "WHO", ["reason"] = "WHY" };
        return action.Kind switch
        {
            HandoffActionKind.Approve => new ApiAction("approve", "POST", $"{runPath}/approvals",
                new JsonObject { ["approved"] = true, ["name"] = action.Name, ["by"] = "WHO", ["comment"] = "WHY" }, $"{action.Description} Send \"arguments\" to change what is approved."),
            HandoffActionKind.Reject => new ApiAction("reject", "POST", $"{runPath}/approvals",
                new JsonObject { ["approved"] = false, ["name"] = action.Name, ["by"] = "WHO", ["comment"] = "WHY" }, action.Description),
            HandoffActionKind.Resolve => new ApiAction("resolve", "POST", $"{runPath}/resolve", action.Resolution switch
            {
                ResolutionAction.Complete => new JsonObject { ["action"] = "complete", ["result"] = "RESULT", ["by"] = "WHO", ["reason"] = "WHY" },
                ResolutionAction.Fail => new JsonObject { ["action"] = "fail", ["reason"] = "WHY", ["by"] = "WHO" },
                _ => new JsonObject { ["action"] = "retry", ["by"] = "WHO", ["reason"] = "WHY" },
            }, action.Description),
            HandoffActionKind.Signal => new ApiAction("signal", "POST", $"{runPath}/signals/{Uri.EscapeDataString(action.Name!)}", null,
                $"{action.Description} The body is the payload."),
            HandoffActionKind.Unblock => new ApiAction("unblock", "POST", $"{runPath}/unblock", who, action.Description),
            HandoffActionKind.Retry => new ApiAction("retry", "POST", $"{runPath}/retry", who, action.Description),
            HandoffActionKind.Resume => new ApiAction("resume", "POST", $"{runPath}/resume", who, action.Description),
            HandoffActionKind.Pause => new ApiAction("pause", "POST", $"{runPath}/pause", who, action.Description),
            HandoffActionKind.Cancel => new ApiAction("cancel", "POST", $"{runPath}/cancel", who, action.Description),
            _ => new ApiAction("inspect", "GET", $"{runPath[..(runPath.LastIndexOf('/') + 1)]}{Uri.EscapeDataString(action.RunId ?? "")}/handoff", null, action.Description),
        };
    }

    /// <summary>The sentence a problem response adds for a run that waits for a person's decision.</summary>
    public static string ResolveHint(StepAttention attention, string runPath) =>
        $"Step '{attention.Step}' of this run waits for a person's decision: POST {runPath}/resolve with " +
        """{"action":"retry"|"complete"|"fail",...}.""";
}
