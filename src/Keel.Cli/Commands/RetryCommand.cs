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
        var runIds = new Argument<string[]>("RUN_ID") { Description = "The Failed runs (or give --workflow).", Arity = ArgumentArity.ZeroOrMore };
        var workflow = new Option<string?>("--workflow") { Description = "Every Failed run of this workflow (newest first, up to --limit).", HelpName = "W" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "With --workflow: only runs created at or after this time (ISO 8601).", HelpName = "TIME" };
        var limit = new Option<int>("--limit") { Description = "With --workflow: at most this many runs (1 to 1000).", HelpName = "N", DefaultValueFactory = _ => 100 };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the runs that would be retried; change nothing." };
        var by = new Option<string?>("--by") { Description = "Who retries them, for the record.", HelpName = "WHO" };
        var reason = new Option<string?>("--reason") { Description = "Why: what was fixed, for the record.", HelpName = "TEXT" };
        var command = new Command("retry",
            "Retry Failed runs: each continues from the step whose failure ended it, with a fresh attempt budget (the step sees " +
            "its earlier failures); what the run did after that failure is set aside. Who and why are journaled.")
        {
            runIds, db, postgres, workflow, since, limit, dryRun, by, reason,
        };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var ids = parse.GetValue(runIds) ?? [];
            var name = parse.GetValue(workflow);
            if (ids.Length > 0 == name is not null)
            {
                throw new CliException("say which runs: give their ids, or --workflow W [--since TIME] for its Failed runs (not both)");
            }
            if (parse.GetValue(limit) is < 1 or > 1000)
            {
                throw new CliException("--limit must be between 1 and 1000");
            }
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            var client = KeelClient.Create(store);
            var selected = ids;
            if (name is not null)
            {
                var page = await client.ListRunsAsync(new RunQuery
                {
                    Statuses = [RunStatus.Failed], WorkflowName = name, CreatedAfter = parse.GetValue(since), Limit = parse.GetValue(limit),
                }, ct);
                selected = [.. page.Runs.Select(r => r.RunId)];
            }
            if (parse.GetValue(dryRun))
            {
                foreach (var id in selected)
                {
                    var run = await client.GetRunAsync(id, ct) ?? throw new RunNotFoundException(id);
                    output.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"would retry  {id}  ({run.WorkflowName}, {run.Status}{(run.Error is { } error ? ": " + ErrorText.Truncate(ErrorText.OneLine(error.ToString()), 100) : "")})"));
                }
                output.Out.WriteLine($"{selected.Length} run(s) would be retried (dry run: nothing changed).");
                return 0;
            }
            foreach (var id in selected)
            {
                await client.RetryAsync(id, parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason), ct);
                output.Out.WriteLine($"Run {id} is retried: the next worker continues it from the step that failed (follow it with `keel show {Shell.Quote(id)}`).");
            }
            if (name is not null)
            {
                output.Out.WriteLine($"{selected.Length} run(s) retried.");
            }
            return 0;
        });
        return command;
    }
}
