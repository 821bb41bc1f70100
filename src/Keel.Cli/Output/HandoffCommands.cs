namespace Keel.Cli.Output;

/// <summary>A handoff's next actions as <c>keel</c> commands for the store the handoff was read from. Values a person
/// must supply are in capitals (RESULT_JSON, PAYLOAD_JSON, WHY): replace them before running the command.</summary>
internal sealed class HandoffCommands(string storeArguments)
{
    public const string ResultPlaceholder = "RESULT_JSON";
    public const string PayloadPlaceholder = "PAYLOAD_JSON";
    public const string ReasonPlaceholder = "WHY";

    public string For(string runId, HandoffAction action)
    {
        var run = Shell.Quote(runId);
        var command = action.Kind switch
        {
            HandoffActionKind.Approve => $"keel approve {run} --name {Shell.Quote(action.Name!)}",
            HandoffActionKind.Reject => $"keel approve {run} --name {Shell.Quote(action.Name!)} --reject --comment {ReasonPlaceholder}",
            HandoffActionKind.Resolve => action.Resolution switch
            {
                ResolutionAction.Complete => $"keel resolve {run} --complete-with {ResultPlaceholder}",
                ResolutionAction.Fail => $"keel resolve {run} --fail {ReasonPlaceholder}",
                _ => $"keel resolve {run} --retry",
            },
            HandoffActionKind.Signal => $"keel signal {run} {Shell.Quote(action.Name!)} {PayloadPlaceholder}",
            HandoffActionKind.Unblock => $"keel unblock {run} --reason {ReasonPlaceholder}",
            HandoffActionKind.Retry => $"keel retry {run} --reason {ReasonPlaceholder}",
            HandoffActionKind.Resume => $"keel resume {run}",
            HandoffActionKind.Pause => $"keel pause {run}",
            HandoffActionKind.Cancel => $"keel cancel {run} --reason {ReasonPlaceholder}",
            HandoffActionKind.Inspect => $"keel handoff {Shell.Quote(action.RunId!)}",
            _ => $"keel show {run}",
        };
        return command + storeArguments;
    }
}
