using System.Text.Json;

namespace Keel.Cli.Output;

/// <summary>Approval requests and decisions of a run's history, in words.</summary>
internal static class ApprovalText
{
    public static string Request(ApprovalRequestInfo request)
    {
        var args = request.Arguments is { } a ? ErrorText.Truncate(a.GetRawText(), 100) : null;
        return $"\"{request.Title}\"{(request.Action is null ? "" : $", gates step '{request.Action}'")}{(args is null ? "" : $", arguments {args}")}";
    }

    public static string Decision(RunDecision decision)
    {
        if (decision.Outcome is null)
        {
            return "(unreadable decision)";
        }
        if (decision.Outcome == ApprovalOutcome.Expired)
        {
            return "expired: nobody decided before the deadline";
        }
        var by = decision.By is { } who ? $" by {who}" : "";
        var comment = decision.Reason is { } why ? $" (\"{ErrorText.OneLine(why)}\")" : "";
        var edited = decision.EditedArguments is { } e
            ? $", arguments edited: {Raw(decision.ProposedArguments)} -> {ErrorText.Truncate(e.GetRawText(), 100)}"
            : "";
        return $"{decision.Outcome.Value.ToString().ToLowerInvariant()}{by}{comment}{edited}";
    }

    private static string Raw(JsonElement? value) => value is { } v ? ErrorText.Truncate(v.GetRawText(), 100) : "?";
}
