using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary>
/// <c>keel cancel RUN_ID... | --workflow W [--status S] [--since TIME] [--limit N] [--dry-run]</c>: cancels runs, or asks
/// their workers to; who and why are journaled.
/// </summary>
internal static class CancelCommand
{
    /// <summary>The states a run can be cancelled in.</summary>
    private static readonly RunStatus[] Cancellable = [.. Enum.GetValues<RunStatus>().Where(s => !s.IsTerminal())];

    public static Command Create()
    {
        var target = new TargetOptions();
        var selection = new RunSelection("Every run of this workflow still in flight (newest first, up to --limit).", "--limit", Cancellable,
            since: true, status: true);
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs that would be cancelled; change nothing." };
        var reason = CliOptions.Reason();
        var by = CliOptions.By();
        var json = CliOptions.Json();
        var command = new Command("cancel",
            "Cancel runs. A run no worker holds ends Cancelled at once; a running one is stopped by its worker. Give run ids, or " +
            "--workflow W (with --status, --since) for all of a workflow's runs in flight; try it with --dry-run first.")
        {
            dryRun, reason, by, json,
        };
        target.AddTo(command);
        selection.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            await using var keel = await target.OpenAsync(parse, ct);
            var actor = Actor.Of(parse, by, reason);
            return await SelectionReport.RunAsync(output, keel, await selection.RunIdsAsync(parse, keel, ct), parse.GetValue(dryRun),
                parse.GetValue(json), selection.ByWorkflow(parse), "cancel", "cancelled or asked to stop", async (id, token) =>
                {
                    await keel.CancelAsync(id, actor, token);
                    var run = await keel.GetExistingRunAsync(id, token);
                    return (run.Status == RunStatus.Cancelled
                        ? $"Run {id} is cancelled.{(run.StatusReason is { } r ? $" Reason: {r}" : "")}"
                        : $"Cancellation requested for run {id} (status {run.Status}): the worker that holds it stops the step in flight and ends the run Cancelled.", run);
                }, ct);
        });
        return command;
    }
}
