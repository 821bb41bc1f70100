using System.CommandLine;
using Keel.Cli.Output;
using System.Text.Json.Nodes;
using Keel.Cli.Connection;

namespace Keel.Cli.Commands;

/// <summary><c>keel fork RUN_ID --at POSITION [--replace-result JSON] [--input JSON] [--run-id NEW]</c>.</summary>
internal static class ForkCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var runId = new Argument<string>("RUN_ID") { Description = "The run to fork." };
        var at = new Option<int>("--at") { Description = "The position from which the fork runs live (see `keel show`); what came before is reused.", HelpName = "POSITION", Required = true };
        var replace = new Option<string?>("--replace-result") { Description = "A corrected result for the step at --at, as JSON (or @FILE, or - for stdin): its body does not run.", HelpName = "JSON" };
        var input = new Option<string?>("--input") { Description = "The fork's input as JSON (or @FILE, or -); default: the source's.", HelpName = "JSON" };
        var newId = new Option<string?>("--run-id") { Description = "The fork's run id; default: derived from the source's.", HelpName = "ID" };
        var by = new Option<string?>("--by") { Description = "Who forks it, for the record.", HelpName = "WHO" };
        var reason = new Option<string?>("--reason") { Description = "Why, for the record.", HelpName = "TEXT" };
        var command = new Command("fork",
            "Fork a run at a position: a new run that reuses what the source recorded before it (no step body runs again, no model " +
            "is called again) and runs live from there, optionally with a corrected result for the step at the position. Both runs " +
            "record the fork and link to each other.")
        {
            runId, at, replace, input, newId, by, reason, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            var result = parse.GetValue(replace) is { } r ? await CommandInput.ReadJsonAsync(r, "--replace-result", output.In, ct) : null;
            var inputJson = parse.GetValue(input) is { } i ? await CommandInput.ReadJsonAsync(i, "--input", output.In, ct) : null;
            await using var keel = await target.OpenAsync(parse, ct);
            var actor = Actor.Of(parse, by, reason);
            var fork = await keel.ForkAsync(id, new ForkOptions
            {
                AtPosition = parse.GetValue(at), ReplaceResultJson = result, InputJson = inputJson, RunId = parse.GetValue(newId),
                By = actor.By, Reason = actor.Reason,
            }, ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), "fork", id,
                $"Forked {id} at position {parse.GetValue(at)} as run {fork.RunId}: a worker continues it from there " +
                $"(follow it with `keel show {Shell.Quote(fork.RunId)}{keel.Arguments}`).", keel, ct,
                new JsonObject { ["fork"] = System.Text.Json.JsonSerializer.SerializeToNode(fork.Run, CliJson.Options) });
        });
        return command;
    }
}
