using System.CommandLine;
using System.Text.Json.Nodes;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel resolve RUN_ID --retry | --complete-with JSON | --fail REASON</c>: decides a step that needs attention.</summary>
internal static class ResolveCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var runId = new Argument<string>("RUN_ID") { Description = "A NeedsAttention run." };
        var retry = new Option<bool>("--retry") { Description = "Run the step's body (again): its unknown attempt counts as failed, or its precondition is overridden." };
        var complete = new Option<string?>("--complete-with")
        {
            Description = "The effect happened: complete the step with this result (JSON; @PATH reads a file, - stdin), without running it.",
            HelpName = "JSON",
        };
        var fail = new Option<string?>("--fail") { Description = "Fail the step for good, for this reason.", HelpName = "REASON" };
        var by = new Option<string?>("--by")
        {
            Description = "Who decides (default: $USER).",
            HelpName = "NAME",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("USER") is { Length: > 0 } user ? user : null,
        };
        var reason = new Option<string?>("--reason") { Description = "Why (with --retry or --complete-with).", HelpName = "TEXT" };
        var command = new Command("resolve", "Decide a step whose outcome is unknown after a crash, or whose precondition did not hold; the run continues.")
        {
            runId, retry, complete, fail, by, reason, json,
        };
        target.AddTo(command);
        command.Validators.Add(r =>
        {
            var chosen = (r.GetValue(retry) ? 1 : 0) + (r.GetValue(complete) is null ? 0 : 1) + (r.GetValue(fail) is null ? 0 : 1);
            if (chosen != 1)
            {
                r.AddError("Give exactly one of --retry, --complete-with JSON or --fail REASON.");
            }
        });
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            var who = parse.GetValue(by);
            var resolution = parse.GetValue(retry) ? StepResolution.Retry(who, parse.GetValue(reason))
                : await CommandInput.ReadJsonAsync(parse.GetValue(complete), "--complete-with", output.In, ct) is { } result
                    ? StepResolution.CompleteWith(result, who, parse.GetValue(reason))
                : StepResolution.Fail(parse.GetValue(fail)!, who);
            await using var keel = await target.OpenAsync(parse, ct);
            var step = await keel.ResolveAsync(id, resolution, ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), "resolve", id,
                $"Step '{step}' of run {id}: {resolution.Action} decided{(who is null ? "" : $" by {who}")}. The run continues.", keel, ct,
                new JsonObject { ["step"] = step, ["resolution"] = resolution.Action });
        });
        return command;
    }
}
