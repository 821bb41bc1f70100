using System.CommandLine;
using Keel.Cli.Output;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary><c>keel handoff RUN_ID</c>: the run handed to a person — goal, state, what ran, was decided and failed,
/// what remains, and the exact commands to act on it.</summary>
internal static class HandoffCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var json = CliOptions.Json();
        var markdown = new Option<bool>("--markdown") { Description = "Print Markdown to paste into a ticket or chat." };
        var runId = new Argument<string>("RUN_ID") { Description = "The run to hand over." };
        var command = new Command("handoff", "Hand a run over to a person: what it is for, where it is and why, what ran, what was decided, what failed and why, what remains, and the commands to act on it.")
        {
            runId, json, markdown, db, postgres,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(json) && r.GetValue(markdown))
            {
                r.AddError("Give --json or --markdown, not both.");
            }
        });
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            var handoff = await KeelClient.Create(store).GetHandoffAsync(id, ct) ?? throw new RunNotFoundException(id);
            var commands = new HandoffCommands(StoreArguments(parse, db, postgres));
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, HandoffView.ToJson(handoff, commands));
            }
            else
            {
                HandoffView.Write(output.Out, handoff, commands, parse.GetValue(markdown), TimeProvider.System.GetUtcNow());
            }
            return 0;
        });
        return command;
    }

    /// <summary>The store options to repeat in printed commands, so they act on the store this command read: the database
    /// file when it is not the default; for PostgreSQL, the variable to hold the connection string (never the string, which
    /// may carry a password).</summary>
    private static string StoreArguments(ParseResult parse, Option<string> db, Option<string?> postgres)
    {
        if (parse.GetResult(postgres) is { Implicit: false })
        {
            return " --postgres \"$KEEL_POSTGRES\"";
        }
        if (parse.GetValue(postgres) is not null)
        {
            return ""; // from KEEL_POSTGRES: the printed commands read it too
        }
        var path = parse.GetValue(db)!;
        return path == CliOptions.DefaultDatabase ? "" : $" --db {Shell.Quote(path)}";
    }
}
