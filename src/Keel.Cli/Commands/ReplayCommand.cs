using System.CommandLine;
using Keel.Cli.Output;
using Keel.Cli.Connection;
using Keel.Testing;

namespace Keel.Cli.Commands;

/// <summary>
/// <c>keel replay --file FILE | RUN_ID... | --workflow W [--last N]</c>: replays recorded runs against the workflow code
/// of the app that hosts the command line (<see cref="KeelCli.RunAsync(string[], Action{KeelBuilder})"/>),
/// with no live calls, and lists the runs a deploy of that code would block. Exit 1 when any would be.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(Action<KeelBuilder>? workflows)
    {
        var target = new TargetOptions(remote: false);
        var json = CliOptions.Json();
        var selection = new RunSelection();
        var file = new Option<string?>("--file") { Description = "Replay the runs of this archive (keel export) instead of the database's.", HelpName = "FILE" };
        var command = new Command("replay",
            "Replay recorded runs against this app's workflow code, with no live calls, before deploying it: lists the runs the " +
            "code would block, with the first difference of each; exits 1 when any would be blocked. Needs the app's workflows: " +
            "call KeelCli.RunAsync(args, k => k.AddWorkflow<...>()) from the app's Main.")
        {
            file, json,
        };
        target.AddTo(command);
        selection.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            if (workflows is null)
            {
                throw new CliException("keel replay needs your workflow code: run it from your app, which calls " +
                                       "Keel.Cli.KeelCli.RunAsync(args, k => k.AddWorkflow<YourWorkflow>()) when given keel arguments (see docs/versioning.md)");
            }
            RunArchive archive;
            if (parse.GetValue(file) is { } path)
            {
                if (selection.IsGiven(parse))
                {
                    throw new CliException("give --file or runs from the database, not both");
                }
                archive = RunArchive.Parse(await File.ReadAllTextAsync(path, ct));
            }
            else
            {
                await using var keel = await target.OpenLocalAsync(parse, ct);
                archive = await keel.Client.ExportAsync(await selection.RunIdsAsync(parse, keel, ct), ct);
            }
            using var replayer = new WorkflowReplayer(workflows);
            var reports = replayer.Replay(archive);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, reports);
            }
            else
            {
                Write(output.Out, reports);
            }
            return reports.All(r => r.Compatible) ? 0 : ExitCodes.Failure;
        });
        return command;
    }

    private static void Write(TextWriter writer, IReadOnlyList<ReplayReport> reports)
    {
        foreach (var report in reports)
        {
            writer.WriteLine(report.Compatible
                ? $"ok      {report.RunId} ({report.WorkflowName})"
                : $"BLOCKS  {report.RunId} ({report.WorkflowName}): {report.Message}");
        }
        var blocked = reports.Count(r => !r.Compatible);
        writer.WriteLine(blocked == 0
            ? $"{reports.Count} run(s) replayed: this code resumes every one."
            : $"{reports.Count} run(s) replayed: {blocked} would be blocked by this code. Guard the change with GetVersion or Patched (docs/versioning.md), or let those runs finish first.");
    }
}
