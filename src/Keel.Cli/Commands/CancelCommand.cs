using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel cancel RUN_ID</c>: cancels a run, or asks its worker to.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var runId = new Argument<string>("RUN_ID") { Description = "The run to cancel." };
        var reason = CliOptions.Reason();
        var by = CliOptions.By();
        var json = CliOptions.Json();
        var command = new Command("cancel", "Cancel a run. A run no worker holds ends Cancelled at once; a running one is stopped by its worker.")
        {
            runId, reason, by, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var keel = await target.OpenAsync(parse, ct);
            await keel.CancelAsync(id, new Actor(parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason)), ct);
            var run = await keel.GetExistingRunAsync(id, ct);
            var message = run.Status == RunStatus.Cancelled
                ? $"Run {id} is cancelled.{(run.StatusReason is { } r ? $" Reason: {r}" : "")}"
                : $"Cancellation requested for run {id} (status {run.Status}): the worker that holds it stops the step in flight and ends the run Cancelled.";
            return await ActionReport.WriteAsync(output, parse.GetValue(json), "cancel", id, message, keel, ct);
        });
        return command;
    }
}
