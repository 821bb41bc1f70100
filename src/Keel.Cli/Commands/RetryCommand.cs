using System.CommandLine;
using System.Globalization;
using Keel.Cli.Output;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary>
/// <c>keel retry RUN_ID... | --workflow W [--since TIME] [--limit N] [--dry-run]</c>: Failed runs continue from the step whose
/// failure ended them, with a fresh attempt budget; who and why are journaled.
/// </summary>
internal static class RetryCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var selection = new RunSelection("Every Failed run of this workflow (newest first, up to --limit).", "--limit", [RunStatus.Failed], since: true);
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs that would be retried; change nothing." };
        var by = new Option<string?>("--by") { Description = "Who retries them, for the record.", HelpName = "WHO" };
        var reason = new Option<string?>("--reason") { Description = "Why: what was fixed, for the record.", HelpName = "TEXT" };
        var command = new Command("retry",
            "Retry Failed runs: each continues from the step whose failure ended it, with a fresh attempt budget (the step sees " +
            "its earlier failures); what the run did after that failure is set aside. Who and why are journaled.")
        {
            db, postgres, dryRun, by, reason,
        };
        selection.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            var client = KeelClient.Create(store);
            var selected = await selection.RunIdsAsync(parse, client, ct);
            if (parse.GetValue(dryRun))
            {
                foreach (var id in selected)
                {
                    var run = await client.GetRunAsync(id, ct) ?? throw new RunNotFoundException(id);
                    output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"would retry  {id}  ({run.WorkflowName}, {run.Status}{(run.Error is { } error ? ": " + ErrorText.Truncate(ErrorText.OneLine(error.ToString()), 100) : "")})"));
                }
                output.Out.WriteLine($"{selected.Count} run(s) would be retried (dry run: nothing changed).");
                return 0;
            }
            foreach (var id in selected)
            {
                await client.RetryAsync(id, parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason), ct);
                output.Out.WriteLine($"Run {id} is retried: the next worker continues it from the step that failed (follow it with `keel show {Shell.Quote(id)}`).");
            }
            if (selection.ByWorkflow(parse))
            {
                output.Out.WriteLine($"{selected.Count} run(s) retried.");
            }
            return 0;
        });
        return command;
    }
}
