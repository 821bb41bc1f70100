using System.CommandLine;
using Keel.Cli.Connection;

namespace Keel.Cli.Commands;

/// <summary><c>keel export RUN_ID... | --workflow W [--last N] [--out FILE]</c>: runs and their journals as a run archive.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var target = new TargetOptions(remote: false);
        var selection = new RunSelection();
        var output = new Option<string?>("--out") { Description = "Write the archive to this file instead of stdout.", HelpName = "FILE" };
        var command = new Command("export",
            "Write runs and their journals as JSON (format keel.runs/1, see docs/versioning.md), to keep as golden runs and replay " +
            "against changed code with `keel replay --file` or Keel.Testing's WorkflowReplayer, with no database and no live calls.")
        {
            output,
        };
        target.AddTo(command);
        selection.AddTo(command);
        CommandAction.Set(command, async (parse, console, ct) =>
        {
            await using var keel = await target.OpenLocalAsync(parse, ct);
            var archive = await keel.Client.ExportAsync(await selection.RunIdsAsync(parse, keel, ct), ct);
            var json = archive.ToJson();
            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, json + Environment.NewLine, ct);
                console.Out.WriteLine($"Exported {archive.Runs.Count} run(s) to {path}.");
            }
            else
            {
                console.Out.WriteLine(json);
            }
            return 0;
        });
        return command;
    }
}
