using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary>
/// <c>keel retry RUN_ID... | --workflow W [--since TIME] [--limit N] [--dry-run]</c>: Failed runs continue from the step whose
/// failure ended them, with a fresh attempt budget; who and why are journaled.
/// </summary>
internal static class RetryCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var selection = new RunSelection("Every Failed run of this workflow (newest first, up to --limit).", "--limit", [RunStatus.Failed], since: true);
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs that would be retried; change nothing." };
        var by = new Option<string?>("--by") { Description = "Who retries them, for the record.", HelpName = "WHO" };
        var reason = new Option<string?>("--reason") { Description = "Why: what was fixed, for the record.", HelpName = "TEXT" };
        var command = new Command("retry",
            "Retry Failed runs: each continues from the step whose failure ended it, with a fresh attempt budget (the step sees " +
            "its earlier failures); what the run did after that failure is set aside. Who and why are journaled.")
        {
            dryRun, by, reason, json,
        };
        target.AddTo(command);
        selection.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            await using var keel = await target.OpenAsync(parse, ct);
            var actor = Actor.Of(parse, by, reason);
            return await SelectionReport.RunAsync(output, keel, await selection.RunIdsAsync(parse, keel, ct), parse.GetValue(dryRun),
                parse.GetValue(json), selection.ByWorkflow(parse), "retry", "retried", async (id, token) =>
                {
                    await keel.RetryAsync(id, actor, token);
                    return ($"Run {id} is retried: the next worker continues it from the step that failed (follow it with `keel show {Shell.Quote(id)}{keel.Arguments}`).", null);
                }, ct);
        });
        return command;
    }
}
