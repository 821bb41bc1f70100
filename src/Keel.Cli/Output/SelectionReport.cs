using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Cli.Commands;
using Keel.Cli.Connection;

namespace Keel.Cli.Output;

/// <summary>
/// Acts on the runs a <see cref="RunSelection"/> names, one by one, or only lists them (<c>--dry-run</c>): a line per run
/// for a person; with <c>--json</c> one envelope, <c>{"ok":true,"action","dryRun","message","runs":[...]}</c>, each run as
/// it is after the action (or as it is, for a dry run).
/// </summary>
internal static class SelectionReport
{
    /// <param name="output">Where to print.</param>
    /// <param name="keel">Where the runs are.</param>
    /// <param name="runIds">The runs chosen.</param>
    /// <param name="dryRun">Only list them.</param>
    /// <param name="json">Print the envelope instead of lines.</param>
    /// <param name="summarize">Whether a person gets the summary line after a real run (several runs were chosen by query).</param>
    /// <param name="action">The command's action: "retry", "cancel".</param>
    /// <param name="done">What the action did, for the summary: "retried", "cancelled".</param>
    /// <param name="act">Acts on one run; the line that says what it did, and the run after it when the action read it.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public static async Task<int> RunAsync(CommandOutput output, IKeelService keel, IReadOnlyList<string> runIds, bool dryRun, bool json,
        bool summarize, string action, string done, Func<string, CancellationToken, Task<(string Line, RunInfo? Run)>> act, CancellationToken cancellationToken)
    {
        var runs = new JsonArray();
        foreach (var id in runIds)
        {
            string line;
            RunInfo? run;
            if (dryRun)
            {
                run = await keel.GetExistingRunAsync(id, cancellationToken);
                line = string.Create(CultureInfo.InvariantCulture,
                    $"would {action}  {id}  ({run.WorkflowName}, {run.Status}{(run.Error is { } error ? ": " + ErrorText.Truncate(ErrorText.OneLine(error.ToString()), 100) : "")})");
            }
            else
            {
                (line, run) = await act(id, cancellationToken);
                if (json && run is null)
                {
                    run = await keel.GetRunAsync(id, cancellationToken);
                }
            }
            if (json)
            {
                runs.Add(JsonSerializer.SerializeToNode(run, CliJson.Options));
            }
            else
            {
                output.Out.WriteLine(line);
            }
        }
        var summary = dryRun ? $"{runIds.Count} run(s) would be {done} (dry run: nothing changed)." : $"{runIds.Count} run(s) {done}.";
        if (json)
        {
            CliJson.Write(output.Out, new JsonObject { ["ok"] = true, ["action"] = action, ["dryRun"] = dryRun, ["message"] = summary, ["runs"] = runs });
        }
        else if (dryRun || summarize)
        {
            output.Out.WriteLine(summary);
        }
        return ExitCodes.Success;
    }
}
