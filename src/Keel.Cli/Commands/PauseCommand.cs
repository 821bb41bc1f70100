using System.CommandLine;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary><c>keel pause RUN_ID</c> and <c>keel resume RUN_ID</c>.</summary>
internal static class PauseCommand
{
    public static Command CreatePause() => Create("pause",
        "Pause a run before its next operation (a step in flight finishes and is kept); it stays paused across restarts.",
        async (client, id, ct) => await client.PauseAsync(id, ct)
            ? $"Run {id} is paused. Resume it with `keel resume {id}`."
            : $"Pause requested for run {id}: its worker pauses it once the step in flight is journaled.");

    public static Command CreateResume() => Create("resume",
        "Resume a paused run: any worker continues it where it stopped.",
        async (client, id, ct) =>
        {
            await client.ResumeAsync(id, ct);
            return $"Run {id} is resumed.";
        });

    private static Command Create(string name, string description, Func<KeelClient, string, CancellationToken, Task<string>> act)
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var runId = new Argument<string>("RUN_ID") { Description = "The run." };
        var by = CliOptions.By();
        var reason = CliOptions.Reason();
        var command = new Command(name, description) { runId, by, reason, db, postgres };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            output.Out.WriteLine(await act(KeelClient.Create(store).As(parse.GetValue(by) ?? Environment.UserName, parse.GetValue(reason)), id, ct));
            return 0;
        });
        return command;
    }
}
