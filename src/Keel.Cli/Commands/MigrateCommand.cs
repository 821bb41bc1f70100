using System.CommandLine;
using System.Text.Json.Nodes;
using Keel.Cli.Output;
using Keel.Cli.Storage;
using Keel.Postgres;
using Keel.Sqlite;

namespace Keel.Cli.Commands;

/// <summary><c>keel migrate</c>: creates or upgrades the store's schema; refuses one from a newer Keel.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var json = CliOptions.Json();
        var command = new Command("migrate", "Create or upgrade the database schema to this Keel's version (a newer one is refused, untouched).") { db, postgres, json };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var connection = parse.GetValue(postgres);
            string message;
            int version;
            if (connection is not null)
            {
                await using var store = await KeelDatabase.OpenExistingAsync("", connection, ct, migrate: true);
                version = PostgresWorkflowStore.SchemaVersion;
                message = $"PostgreSQL schema '{((PostgresWorkflowStore)store).Schema}' is at version {version}.";
            }
            else
            {
                await using var store = await KeelDatabase.OpenOrCreateAsync(parse.GetValue(db)!, ct);
                version = SqliteWorkflowStore.SchemaVersion;
                message = $"{store.FilePath} is at schema version {version}.";
            }
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, new JsonObject { ["ok"] = true, ["action"] = "migrate", ["message"] = message, ["schemaVersion"] = version });
            }
            else
            {
                output.Out.WriteLine(message);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
