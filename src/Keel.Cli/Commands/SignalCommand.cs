using System.CommandLine;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary><c>keel signal RUN_ID NAME [JSON]</c>: stores a signal in a run's inbox.</summary>
internal static class SignalCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var runId = new Argument<string>("RUN_ID") { Description = "The run." };
        var name = new Argument<string>("NAME") { Description = "The signal's name, as the workflow waits for it." };
        var payload = new Argument<string?>("JSON")
        {
            Description = "The payload as JSON (quote it for the shell: '{\"ok\":true}'), @PATH to read it from a file, or - from stdin; omit for none.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("signal", "Send a signal to a run. It is stored durably and delivered once, whether or not the run waits for it yet.")
        {
            runId, name, payload, db, postgres,
        };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            var signal = parse.GetValue(name)!;
            var json = await CommandInput.ReadJsonAsync(parse.GetValue(payload), "JSON", output.In, ct);
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            await KeelClient.Create(store).SignalWithJsonAsync(id, signal, json, ct);
            output.Out.WriteLine($"Signal '{signal}' stored for run {id}.");
            return 0;
        });
        return command;
    }
}
