using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel pause RUN_ID</c> and <c>keel resume RUN_ID</c>.</summary>
internal static class PauseCommand
{
    public static Command CreatePause() => Create("pause",
        "Pause a run before its next operation (a step in flight finishes and is kept); it stays paused across restarts.",
        async (keel, id, actor, ct) => await keel.PauseAsync(id, actor, ct)
            ? $"Run {id} is paused. Resume it with `keel resume {Shell.Quote(id)}{keel.Arguments}`."
            : $"Pause requested for run {id}: its worker pauses it once the step in flight is journaled.");

    public static Command CreateResume() => Create("resume",
        "Resume a paused run: any worker continues it where it stopped.",
        async (keel, id, actor, ct) =>
        {
            await keel.ResumeAsync(id, actor, ct);
            return $"Run {id} is resumed.";
        });

    private static Command Create(string name, string description, Func<IKeelService, string, Actor, CancellationToken, Task<string>> act)
    {
        var target = new TargetOptions();
        var runId = new Argument<string>("RUN_ID") { Description = "The run." };
        var by = CliOptions.By();
        var reason = CliOptions.Reason();
        var json = CliOptions.Json();
        var command = new Command(name, description) { runId, by, reason, json };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var keel = await target.OpenAsync(parse, ct);
            var message = await act(keel, id, Actor.Of(parse, by, reason), ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), name, id, message, keel, ct);
        });
        return command;
    }
}
