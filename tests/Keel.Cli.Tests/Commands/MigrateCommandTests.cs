namespace Keel.Cli.Tests.Commands;

public class MigrateCommandTests
{
    [Fact]
    public async Task Migrate_Sqlite_CreatesTheSchemaThenInspectionWorks()
    {
        using var dir = new TempDirectory();
        var migrate = await Cli.RunAsync("migrate", "--db", dir.DatabasePath);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        Assert.Contains($"{dir.DatabasePath} is at schema version", migrate.Out, StringComparison.Ordinal);
        var runs = await Cli.RunAsync("runs", "--db", dir.DatabasePath);
        Assert.True(runs.ExitCode == 0, runs.ToString());

        var again = await Cli.RunAsync("migrate", "--json", "--db", dir.DatabasePath); // nothing to do, said the same way
        Assert.True(again.ExitCode == 0, again.ToString());
        var envelope = System.Text.Json.Nodes.JsonNode.Parse(again.Out)!;
        Assert.True((bool)envelope["ok"]! && (string)envelope["action"]! == "migrate", again.Out);
        Assert.Equal(Keel.Sqlite.SqliteWorkflowStore.SchemaVersion, (int)envelope["schemaVersion"]!);
    }
}
