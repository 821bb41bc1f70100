using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel handoff RUN_ID</c>: the run handed to a person — goal, state, what ran, was decided and failed,
/// what remains, and the exact commands to act on it.</summary>
internal static class HandoffCommand
{
    public static Command Create()
    {
        var target = new Connection.TargetOptions();
        var json = CliOptions.Json();
        var markdown = new Option<bool>("--markdown") { Description = "Print Markdown to paste into a ticket or chat." };
        var runId = new Argument<string>("RUN_ID") { Description = "The run to hand over." };
        var command = new Command("handoff", "Hand a run over to a person: what it is for, where it is and why, what ran, what was decided, what failed and why, what remains, and the commands to act on it.")
        {
            runId, json, markdown,
        };
        target.AddTo(command);
        command.Validators.Add(r =>
        {
            if (r.GetValue(json) && r.GetValue(markdown))
            {
                r.AddError("Give --json or --markdown, not both.");
            }
        });
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var keel = await target.OpenAsync(parse, ct);
            var handoff = RunHandoff.From(await keel.GetHistoryAsync(id, ct));
            var commands = new HandoffCommands(keel.Arguments);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, HandoffView.ToJson(handoff, commands));
            }
            else
            {
                HandoffView.Write(output.Out, handoff, commands, parse.GetValue(markdown), TimeProvider.System.GetUtcNow());
            }
            return 0;
        });
        return command;
    }
}
