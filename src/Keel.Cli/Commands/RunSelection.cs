using System.CommandLine;

namespace Keel.Cli.Commands;

/// <summary>
/// Which runs a command takes (<c>keel export</c>, <c>keel replay</c>, <c>keel retry</c>): given ids, or the newest runs of a
/// workflow, optionally only in some states and created since a time.
/// </summary>
internal sealed class RunSelection
{
    private readonly Argument<string[]> _runIds = new("RUN_ID") { Description = "The runs (or give --workflow).", Arity = ArgumentArity.ZeroOrMore };

    private readonly Option<string?> _workflow;

    private readonly Option<int> _last;

    private readonly Option<DateTimeOffset?>? _since;

    private readonly Option<RunStatus[]>? _status;

    private readonly IReadOnlyList<RunStatus> _statuses;

    private readonly string _which;

    /// <param name="workflowHelp">What --workflow selects.</param>
    /// <param name="limitName">The option that bounds how many of the workflow's runs (<c>--last</c>, <c>--limit</c>).</param>
    /// <param name="statuses">Only runs in these states (none: any).</param>
    /// <param name="since">Whether --since (runs created at or after a time) is offered.</param>
    /// <param name="status">Whether --status (some of <paramref name="statuses"/> only) is offered.</param>
    public RunSelection(string workflowHelp = "The newest runs of this workflow, in flight or ended.", string limitName = "--last",
        IReadOnlyList<RunStatus>? statuses = null, bool since = false, bool status = false)
    {
        _workflow = new Option<string?>("--workflow") { Description = workflowHelp, HelpName = "W" };
        _last = new Option<int>(limitName)
        {
            Description = "How many of the workflow's newest runs (1 to 1000).",
            HelpName = "N",
            DefaultValueFactory = _ => 100,
            Validators =
            {
                r =>
                {
                    if (r.GetValueOrDefault<int>() is < 1 or > 1000)
                    {
                        r.AddError($"{limitName} must be between 1 and 1000.");
                    }
                },
            },
        };
        _since = since ? new Option<DateTimeOffset?>("--since") { Description = "With --workflow: only runs created at or after this time (ISO 8601).", HelpName = "TIME" } : null;
        _statuses = statuses ?? [];
        _status = status ? new Option<RunStatus[]>("--status")
        {
            Description = $"With --workflow: only runs in this state (repeatable){(_statuses.Count > 0 ? $", one of {string.Join(", ", _statuses)}" : "")}.",
            HelpName = "S",
            CustomParser = RunsCommand.ParseStatuses,
        } : null;
        _which = since ? "--workflow W [--since TIME]" : $"--workflow W [{limitName} N]";
    }

    public void AddTo(Command command)
    {
        command.Arguments.Add(_runIds);
        command.Options.Add(_workflow);
        command.Options.Add(_last);
        if (_since is not null)
        {
            command.Options.Add(_since);
        }
        if (_status is not null)
        {
            command.Options.Add(_status);
        }
    }

    /// <summary>Whether the runs are a workflow's (not ids given one by one).</summary>
    public bool ByWorkflow(ParseResult parse) => parse.GetValue(_workflow) is not null;

    public bool IsGiven(ParseResult parse) => parse.GetValue(_runIds) is { Length: > 0 } || parse.GetValue(_workflow) is not null;

    /// <summary>The ids of the runs selected, in the order given (ids) or newest first (a workflow).</summary>
    public async Task<IReadOnlyList<string>> RunIdsAsync(ParseResult parse, Connection.IKeelService keel, CancellationToken cancellationToken)
    {
        var ids = parse.GetValue(_runIds) ?? [];
        var workflow = parse.GetValue(_workflow);
        if (ids.Length > 0 && workflow is not null)
        {
            throw new CliException("give run ids or --workflow, not both");
        }
        if (ids.Length > 0)
        {
            foreach (var id in ids)
            {
                RunIds.ValidateExisting(id);
            }
            return ids;
        }
        if (workflow is null)
        {
            throw new CliException($"say which runs: give their ids, or {_which} for the newest runs of a workflow");
        }
        var statuses = _statuses;
        if (_status is not null && parse.GetValue(_status) is { Length: > 0 } chosen)
        {
            if (_statuses.Count > 0 && chosen.Where(s => !_statuses.Contains(s)).ToList() is { Count: > 0 } outside)
            {
                throw new CliException($"--status {string.Join(", ", outside)}: this command takes only runs that are {string.Join(", ", _statuses)}.");
            }
            statuses = chosen;
        }
        var page = await keel.ListRunsAsync(new RunQuery
        {
            WorkflowName = workflow, Statuses = statuses, Limit = parse.GetValue(_last), CreatedAfter = _since is null ? null : parse.GetValue(_since),
        }, cancellationToken);
        return [.. page.Runs.Select(r => r.RunId)];
    }
}
