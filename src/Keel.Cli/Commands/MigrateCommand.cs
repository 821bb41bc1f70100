using System.CommandLine;
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
        var command = new Command("migrate", "Create or upgrade the database schema to this Keel's version (a newer one is refused, untouched).") { db, postgres };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var connection = parse.GetValue(postgres);
            if (connection is not null)
            {
                await using var store = await KeelDatabase.OpenExistingAsync("", connection, ct, migrate: true);
                output.Out.WriteLine($"PostgreSQL schema '{((PostgresWorkflowStore)store).Schema}' is at version {PostgresWorkflowStore.SchemaVersion}.");
            }
            else
            {
                await using var store = await KeelDatabase.OpenOrCreateAsync(parse.GetValue(db)!, ct);
                output.Out.WriteLine($"{store.FilePath} is at schema version {SqliteWorkflowStore.SchemaVersion}.");
            }
            return 0;
        });
        return command;
    }
}
