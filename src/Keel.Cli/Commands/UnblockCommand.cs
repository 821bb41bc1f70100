using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel unblock RUN_ID [--by WHO] [--reason TEXT]</c>: a Blocked run continues where it stopped.</summary>
internal static class UnblockCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var runId = new Argument<string>("RUN_ID") { Description = "The Blocked run." };
        var by = new Option<string?>("--by") { Description = "Who unblocks it, for the record.", HelpName = "WHO" };
        var reason = new Option<string?>("--reason") { Description = "Why: what was fixed, for the record.", HelpName = "TEXT" };
        var json = CliOptions.Json();
        var command = new Command("unblock",
            "Unblock a Blocked run once its cause is fixed (code that matches its journal deployed, a crash fixed): it continues " +
            "where it stopped, with a fresh recovery budget; who and why are journaled.")
        {
            runId, by, reason, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var keel = await target.OpenAsync(parse, ct);
            await keel.UnblockAsync(id, Actor.Of(parse, by, reason), ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), "unblock", id,
                $"Run {id} is unblocked: the next worker that takes it continues it where it stopped " +
                $"(follow it with `keel show {Shell.Quote(id)}{keel.Arguments}`).", keel, ct);
        });
        return command;
    }
}
