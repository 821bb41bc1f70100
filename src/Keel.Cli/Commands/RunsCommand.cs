using System.CommandLine;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel runs</c>: lists runs, newest first, with filters and paging.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var target = new Connection.TargetOptions();
        var json = CliOptions.Json();
        var status = new Option<RunStatus[]>("--status")
        {
            Description = "Only runs in this state (repeatable): Pending, Running, Waiting, Paused, NeedsAttention, Blocked, Completed, Failed, Cancelled.",
            HelpName = "S",
            CustomParser = ParseStatuses,
        };
        var workflow = new Option<string?>("--workflow") { Description = "Only runs of this workflow.", HelpName = "W" };
        var limit = new Option<int>("--limit")
        {
            Description = "Runs per page (1 to 1000).",
            HelpName = "N",
            DefaultValueFactory = _ => 50,
            Validators =
            {
                r =>
                {
                    if (r.GetValueOrDefault<int>() is < 1 or > 1000)
                    {
                        r.AddError("--limit must be between 1 and 1000.");
                    }
                },
            },
        };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the page that printed this cursor.", HelpName = "C" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only runs created at or after this time (ISO 8601, e.g. 2026-12-03T10:00Z).", HelpName = "TIME" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Only runs created before this time (ISO 8601).", HelpName = "TIME" };
        var attention = new Option<bool>("--attention")
        {
            Description = "Only runs a person must act on: NeedsAttention (a step's outcome unknown, a precondition unmet) and Blocked (same as --status NeedsAttention --status Blocked).",
        };
        var person = new Option<bool>("--waiting-on-person")
        {
            Description = "Only runs that wait for a person: an approval nobody has decided, a step that needs attention, a Blocked run.",
        };
        var command = new Command("runs", "List runs, newest first, with what each is doing or why it stopped.")
        {
            status, workflow, since, until, attention, person, limit, cursor, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            await using var keel = await target.OpenAsync(parse, ct);
            var query = new RunQuery
            {
                Statuses = parse.GetValue(attention) ? [.. (parse.GetValue(status) ?? []).Union([RunStatus.NeedsAttention, RunStatus.Blocked])] : parse.GetValue(status) ?? [],
                WorkflowName = parse.GetValue(workflow),
                WaitingForPerson = parse.GetValue(person),
                CreatedAfter = parse.GetValue(since),
                CreatedBefore = parse.GetValue(until),
                Limit = parse.GetValue(limit),
                Cursor = parse.GetValue(cursor),
            };
            RunPage page;
            try
            {
                page = await keel.ListRunsAsync(query, ct);
            }
            catch (ArgumentException ex) when (query.Cursor is not null)
            {
                throw new CliException($"invalid --cursor: {ex.Message.Split(" (Parameter '", 2)[0]}");
            }
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, page);
            }
            else
            {
                RunListView.Write(output.Out, page, NextPageCommand(keel.Arguments, query));
            }
            return 0;
        });
        return command;
    }

    internal static RunStatus[] ParseStatuses(System.CommandLine.Parsing.ArgumentResult result)
    {
        var statuses = new List<RunStatus>();
        foreach (var token in result.Tokens)
        {
            if (Enum.TryParse<RunStatus>(token.Value, ignoreCase: true, out var status) && Enum.IsDefined(status) &&
                !int.TryParse(token.Value, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                statuses.Add(status);
            }
            else
            {
                result.AddError($"Unknown status '{token.Value}'. Use one of: {string.Join(", ", Enum.GetNames<RunStatus>())}.");
            }
        }
        return [.. statuses];
    }

    private static string NextPageCommand(string arguments, RunQuery query)
    {
        var parts = new List<string> { "keel runs" + arguments };
        foreach (var s in query.Statuses)
        {
            parts.Add($"--status {s}");
        }
        if (query.WorkflowName is { } w)
        {
            parts.Add($"--workflow {Shell.Quote(w)}");
        }
        if (query.WaitingForPerson)
        {
            parts.Add("--waiting-on-person");
        }
        if (query.CreatedAfter is { } after)
        {
            parts.Add($"--since {after.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}");
        }
        if (query.CreatedBefore is { } before)
        {
            parts.Add($"--until {before.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}");
        }
        parts.Add($"--limit {query.Limit}");
        return string.Join(' ', parts);
    }
}
