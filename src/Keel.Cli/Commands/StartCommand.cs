using System.CommandLine;
using Keel.Cli.Output;
using Keel.Cli.Connection;

namespace Keel.Cli.Commands;

/// <summary><c>keel start WORKFLOW [JSON] [--run-id ID] [--priority N]</c>: starts a run (idempotent by its id).</summary>
internal static class StartCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var workflow = new Argument<string>("WORKFLOW") { Description = "The workflow's durable name, as its workers register it." };
        var input = new Argument<string?>("JSON")
        {
            Description = "The input as JSON (quote it for the shell: '{\"customer\":42}'), @PATH to read it from a file, or - from stdin; omit for null.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var inputOption = new Option<string?>("--input") { Description = "The input, as the JSON argument takes it (JSON, @PATH or -).", HelpName = "JSON" };
        var runId = new Option<string?>("--run-id") { Description = "The run's id (a second start with the same id starts nothing and says so); a new id by default." };
        var priority = new Option<int>("--priority") { Description = "Higher runs are claimed first (default 0)." };
        var command = new Command("start", "Start a run of a workflow. A worker that serves the workflow runs it; the id is printed.")
        {
            workflow, input, inputOption, runId, priority, json,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(input) is not null && r.GetValue(inputOption) is not null)
            {
                r.AddError("Give the input once: as the JSON argument or with --input, not both.");
            }
        });
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var name = parse.GetValue(workflow)!;
            var payload = await CommandInput.ReadJsonAsync(parse.GetValue(input) ?? parse.GetValue(inputOption),
                parse.GetValue(inputOption) is null ? "JSON" : "--input", output.In, ct) ?? "null";
            await using var keel = await target.OpenAsync(parse, ct);
            var started = await keel.StartAsync(name, payload,
                new StartWorkflowOptions { RunId = parse.GetValue(runId), Priority = parse.GetValue(priority) }, ct);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, started);
            }
            else
            {
                output.Out.WriteLine(started.Created
                    ? $"Started run {started.RunId} of workflow '{name}'. Follow it: keel show {Shell.Quote(started.RunId)}{keel.Arguments}"
                    : $"Run {started.RunId} exists already ({started.Run.Status}): nothing was started. See it: keel show {Shell.Quote(started.RunId)}{keel.Arguments}");
            }
            return 0;
        });
        return command;
    }
}
