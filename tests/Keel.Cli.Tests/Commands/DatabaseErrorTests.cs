using Microsoft.Data.Sqlite;

namespace Keel.Cli.Tests.Commands;

/// <summary>Inspection commands never create a database, and never change a file that is not one.</summary>
public class DatabaseErrorTests
{
    public static TheoryData<string[]> InspectionCommands => new()
    {
        new[] { "runs" },
        new[] { "runs", "--json" },
        new[] { "show", "some-run" },
        new[] { "cancel", "some-run" },
    };

    [Theory]
    [MemberData(nameof(InspectionCommands))]
    public async Task MissingDatabase_FailsAndDoesNotCreateIt(string[] command)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "missing.db");

        var result = await Cli.RunAsync([.. command, "--db", path]);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"keel: error: no Keel database at {path} (give the file with --db PATH; `keel demo` creates one)\n",
            result.Err.ReplaceLineEndings("\n"));
        if (command.Contains("--json"))
        {
            // A script asked for JSON: the refusal comes as JSON too, with the same exit code and sentence.
            using var error = System.Text.Json.JsonDocument.Parse(result.Out);
            Assert.False(error.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal(3, error.RootElement.GetProperty("error").GetProperty("exitCode").GetInt32());
            Assert.StartsWith("no Keel database at", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("", result.Out);
        }
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Theory]
    [MemberData(nameof(InspectionCommands))]
    public async Task CorruptedDatabase_FailsClearlyAndLeavesFileUnchanged(string[] command)
    {
        using var dir = new TempDirectory();
        var garbage = new byte[4096];
        new Random(42).NextBytes(garbage);
        await File.WriteAllBytesAsync(dir.DatabasePath, garbage, TestContext.Current.CancellationToken);

        var result = await Cli.RunAsync([.. command, "--db", dir.DatabasePath]);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains($"'{dir.DatabasePath}' is not a Keel database", result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(garbage, await File.ReadAllBytesAsync(dir.DatabasePath, TestContext.Current.CancellationToken));
        Assert.Equal([dir.DatabasePath], Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task TextFileAsDatabase_FailsClearlyAndLeavesFileUnchanged()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "notes.txt");
        await File.WriteAllTextAsync(path, "these are my notes, not a database\n", TestContext.Current.CancellationToken);

        var result = await Cli.RunAsync("show", "x", "--db", path);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("is not a Keel database", result.Err, StringComparison.Ordinal);
        Assert.Equal("these are my notes, not a database\n", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task OtherSqliteDatabase_FailsAndGetsNoKeelTables()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "other.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello');";
            command.ExecuteNonQuery();
        }
        var before = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);

        var result = await Cli.RunAsync("runs", "--db", path);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("is a SQLite database of another application", result.Err, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
    }
}
