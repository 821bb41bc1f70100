using System.CommandLine;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary><c>keel cancel RUN_ID</c>: cancels a run, or asks its worker to.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var runId = new Argument<string>("RUN_ID") { Description = "The run to cancel." };
        var reason = CliOptions.Reason();
        var by = CliOptions.By();
        var command = new Command("cancel", "Cancel a run. A run no worker holds ends Cancelled at once; a running one is stopped by its worker.")
        {
            runId, db, postgres, reason, by,
        };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            var client = KeelClient.Create(store).As(parse.GetValue(by) ?? Environment.UserName);
            await client.CancelAsync(id, parse.GetValue(reason), ct);
            var run = await client.GetRunAsync(id, ct) ?? throw new RunNotFoundException(id);
            if (run.Status == RunStatus.Cancelled)
            {
                output.Out.WriteLine($"Run {id} is cancelled.{(run.StatusReason is { } r ? $" Reason: {r}" : "")}");
            }
            else
            {
                output.Out.WriteLine($"Cancellation requested for run {id} (status {run.Status}): " +
                                     "the worker that holds it stops the step in flight and ends the run Cancelled.");
            }
            return 0;
        });
        return command;
    }
}
