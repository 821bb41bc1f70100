using System.CommandLine;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary><c>keel priority RUN_ID N</c>: changes a run's priority for its next scheduling.</summary>
internal static class PriorityCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var runId = new Argument<string>("RUN_ID") { Description = "The run." };
        var priority = new Argument<int>("N") { Description = "The new priority; higher runs are taken first." };
        var by = CliOptions.By();
        var reason = CliOptions.Reason();
        var command = new Command("priority", "Change a run's priority: workers take runnable work by priority, then due time.")
        {
            runId, priority, by, reason, db, postgres,
        };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            var run = await KeelClient.Create(store).As(parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason)).SetPriorityAsync(id, parse.GetValue(priority), ct);
            output.Out.WriteLine($"Run {run.RunId} ({run.Status}) now has priority {run.Priority}; it applies from its next scheduling.");
            return 0;
        });
        return command;
    }
}
