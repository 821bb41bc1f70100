using System.CommandLine;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel workers</c>: the workers registered in the store, most recently seen first.</summary>
internal static class WorkersCommand
{
    /// <summary>A worker that said nothing for this long (it reports every 10 s) is taken for gone.</summary>

    public static Command Create()
    {
        var target = new Connection.TargetOptions();
        var json = CliOptions.Json();
        var days = new Option<double>("--days") { Description = "Workers seen in the last N days (default 7).", HelpName = "N", DefaultValueFactory = _ => 7 };
        var command = new Command("workers", "List the workers registered in the store: alive or not, last seen, workflows, build.") { days, json };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            if (parse.GetValue(days) is not > 0 and var d)
            {
                throw new CliException($"--days must be a positive number (it is {d}).", ExitCodes.BadInput);
            }
            await using var keel = await target.OpenAsync(parse, ct);
            var workers = await keel.ListWorkersAsync(TimeSpan.FromDays(parse.GetValue(days)), ct);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, workers);
                return 0;
            }
            if (workers.Count == 0)
            {
                output.Out.WriteLine("No worker has registered in this store in that time.");
                return 0;
            }
            var now = TimeProvider.System.GetUtcNow();
            var table = new TextTable("WORKER", "STATE", "LAST SEEN", "RUNS HELD", "HOST/PID", "BUILD", "WORKFLOWS");
            foreach (var worker in workers)
            {
                var state = worker.StoppedAt is not null ? "stopped" : worker.IsAliveAt(now) ? "alive" : "gone (silent)";
                table.Add(worker.WorkerId, state, TimeFormat.ShortTimestamp(worker.LastSeenAt),
                    worker.RunsHeld.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{worker.Host}/{worker.ProcessId}",
                    worker.Build ?? "", string.Join(", ", worker.Workflows));
            }
            table.Write(output.Out);
            return 0;
        });
        return command;
    }
}
