using System.CommandLine;

namespace Keel.Cli.Commands;

/// <summary>Which runs <c>keel export</c> and <c>keel replay</c> take: given ids, or the newest runs of a workflow.</summary>
internal sealed class RunSelection
{
    private readonly Argument<string[]> _runIds = new("RUN_ID") { Description = "The runs (or give --workflow).", Arity = ArgumentArity.ZeroOrMore };

    private readonly Option<string?> _workflow = new("--workflow") { Description = "The newest runs of this workflow, in flight or ended.", HelpName = "W" };

    private readonly Option<int> _last = new("--last")
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
                    r.AddError("--last must be between 1 and 1000.");
                }
            },
        },
    };

    public void AddTo(Command command)
    {
        command.Arguments.Add(_runIds);
        command.Options.Add(_workflow);
        command.Options.Add(_last);
    }

    public bool IsGiven(ParseResult parse) => parse.GetValue(_runIds) is { Length: > 0 } || parse.GetValue(_workflow) is not null;

    /// <summary>The ids of the runs selected, in the order given (ids) or newest first (a workflow).</summary>
    public async Task<IReadOnlyList<string>> RunIdsAsync(ParseResult parse, KeelClient client, CancellationToken cancellationToken)
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
            throw new CliException("say which runs: give their ids, or --workflow W [--last N] for the newest runs of a workflow");
        }
        var page = await client.ListRunsAsync(new RunQuery { WorkflowName = workflow, Limit = parse.GetValue(_last) }, cancellationToken);
        return [.. page.Runs.Select(r => r.RunId)];
    }
}
