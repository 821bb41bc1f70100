using System.CommandLine;
using System.Globalization;
using Keel.Cli.Output;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Cli.Connection;

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
            var selected = await selection.RunIdsAsync(parse, keel, ct);
            var text = !parse.GetValue(json);
            var runs = new JsonArray();
            if (parse.GetValue(dryRun))
            {
                foreach (var id in selected)
                {
                    var run = await keel.GetExistingRunAsync(id, ct);
                    runs.Add(JsonSerializer.SerializeToNode(run, CliJson.Options));
                    Line(string.Create(CultureInfo.InvariantCulture,
                        $"would retry  {id}  ({run.WorkflowName}, {run.Status}{(run.Error is { } error ? ": " + ErrorText.Truncate(ErrorText.OneLine(error.ToString()), 100) : "")})"));
                }
                return Done($"{selected.Count} run(s) would be retried (dry run: nothing changed).");
            }
            foreach (var id in selected)
            {
                await keel.RetryAsync(id, new Actor(parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason)), ct);
                runs.Add(JsonSerializer.SerializeToNode(await keel.GetRunAsync(id, ct), CliJson.Options));
                Line($"Run {id} is retried: the next worker continues it from the step that failed (follow it with `keel show {Shell.Quote(id)}{keel.Arguments}`).");
            }
            return Done($"{selected.Count} run(s) retried.");

            void Line(string line)
            {
                if (text)
                {
                    output.Out.WriteLine(line);
                }
            }

            // Several runs, so not the one-run envelope: the same fields, with the runs.
            int Done(string summary)
            {
                if (text && (parse.GetValue(dryRun) || selection.ByWorkflow(parse)))
                {
                    output.Out.WriteLine(summary);
                }
                else if (!text)
                {
                    CliJson.Write(output.Out, new JsonObject
                    {
                        ["ok"] = true, ["action"] = "retry", ["dryRun"] = parse.GetValue(dryRun), ["message"] = summary, ["runs"] = runs,
                    });
                }
                return ExitCodes.Success;
            }
        });
        return command;
    }
}
