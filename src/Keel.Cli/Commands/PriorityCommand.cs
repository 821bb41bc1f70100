using System.CommandLine;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel priority RUN_ID N</c>: changes a run's priority for its next scheduling.</summary>
internal static class PriorityCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var runId = new Argument<string>("RUN_ID") { Description = "The run." };
        var priority = new Argument<int>("N") { Description = "The new priority; higher runs are taken first." };
        var by = CliOptions.By();
        var reason = CliOptions.Reason();
        var json = CliOptions.Json();
        var command = new Command("priority", "Change a run's priority: workers take runnable work by priority, then due time.")
        {
            runId, priority, by, reason, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var keel = await target.OpenAsync(parse, ct);
            var run = await keel.SetPriorityAsync(id, parse.GetValue(priority), Actor.Of(parse, by, reason), ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), "priority", id,
                $"Run {run.RunId} ({run.Status}) now has priority {run.Priority}; it applies from its next scheduling.", keel, ct);
        });
        return command;
    }
}
