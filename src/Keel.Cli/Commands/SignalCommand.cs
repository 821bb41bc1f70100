using System.CommandLine;
using System.Text.Json.Nodes;
using Keel.Cli.Connection;
using Keel.Cli.Output;

namespace Keel.Cli.Commands;

/// <summary><c>keel signal RUN_ID NAME [JSON]</c>: stores a signal in a run's inbox.</summary>
internal static class SignalCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var runId = new Argument<string>("RUN_ID") { Description = "The run." };
        var name = new Argument<string>("NAME") { Description = "The signal's name, as the workflow waits for it." };
        var payload = new Argument<string?>("JSON")
        {
            Description = "The payload as JSON (quote it for the shell: '{\"ok\":true}'), @PATH to read it from a file, or - from stdin; omit for none.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = CliOptions.Json();
        var by = CliOptions.By();
        var reason = CliOptions.Reason();
        var command = new Command("signal",
            "Send a signal to a run. It is stored durably and delivered once, whether or not the run waits for it yet; who sent it and why are journaled.")
        {
            runId, name, payload, by, reason, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            var signal = parse.GetValue(name)!;
            var body = await CommandInput.ReadJsonAsync(parse.GetValue(payload), "JSON", output.In, ct);
            await using var keel = await target.OpenAsync(parse, ct);
            await keel.SignalAsync(id, signal, body, Actor.Of(parse, by, reason), ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), "signal", id, $"Signal '{signal}' stored for run {id}.", keel, ct,
                new JsonObject { ["signal"] = signal });
        });
        return command;
    }
}
