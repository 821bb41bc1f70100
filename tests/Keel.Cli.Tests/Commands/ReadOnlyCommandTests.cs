using System.Diagnostics;
using System.Security.Cryptography;
using Keel.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keel.Cli.Tests.Commands;

/// <summary>
/// Commands that read (runs, show, pending, serve) refuse a file that is not a current Keel database and leave it byte
/// for byte as it was, with no -wal or -shm file beside it; only migrate, demo and workers create or upgrade a schema.
/// </summary>
public class ReadOnlyCommandTests
{
    public static TheoryData<string, string> FilesAndCommands()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in new[] { "zero-byte", "empty-sqlite", "foreign", "not-sqlite", "older-keel", "newer-keel" })
        {
            foreach (var command in new[] { "runs", "show", "pending", "serve" })
            {
                data.Add(file, command);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FilesAndCommands))]
    public async Task ReadOnlyCommand_OnAFileThatIsNotACurrentKeelDatabase_RefusesAndLeavesItByteIdentical(string file, string command)
    {
        using var dir = new TempDirectory();
        var expected = CreateFile(dir.DatabasePath, file);
        Assert.Equal([dir.DatabasePath], Directory.GetFileSystemEntries(dir.Path));
        var before = Hash(dir.DatabasePath);

        string[] args = command switch
        {
            "show" => ["show", "some-run"],
            "serve" => ["serve", "--url", "http://127.0.0.1:0"],
            _ => [command],
        };
        // A serve that accepted the file would serve until stopped.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(20));
        var result = await Cli.RunAsync(stop.Token, [.. args, "--db", dir.DatabasePath]);

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains(expected, result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(before, Hash(dir.DatabasePath));
        Assert.Equal([dir.DatabasePath], Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Runs_OnACurrentDatabaseWhileAnotherProcessHoldsTheWriteLock_ReadsWithoutWaitingForIt()
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "r-1");
        await using var writer = new SqliteConnection($"Data Source={dir.DatabasePath};Pooling=False");
        await writer.OpenAsync(TestContext.Current.CancellationToken);
        using var transaction = writer.BeginTransaction(deferred: false); // holds the write lock until disposed
        using (var insert = writer.CreateCommand())
        {
            insert.CommandText = "INSERT INTO keel_meta (key, value) VALUES ('test-lock', 'held');";
            insert.ExecuteNonQuery();
        }

        var clock = Stopwatch.StartNew();
        var result = await Cli.RunAsync("runs", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^r-1\s+add\s+Completed\s", result.Out);
        // The store's busy timeout is 10 s: a read that queued for the write lock would take that long, then fail.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Migrate_OnAZeroByteFile_CreatesTheSchema_AfterWhichRunsReadsIt()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.DatabasePath, [], TestContext.Current.CancellationToken);

        var migrate = await Cli.RunAsync("migrate", "--db", dir.DatabasePath);
        var runs = await Cli.RunAsync("runs", "--db", dir.DatabasePath);

        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        Assert.True(runs.ExitCode == 0, runs.ToString());
        Assert.Contains("No runs", runs.Out, StringComparison.Ordinal);
    }

    /// <summary>Writes the kind of file named; returns what the refusal must say.</summary>
    private static string CreateFile(string path, string kind)
    {
        switch (kind)
        {
            case "zero-byte":
                File.WriteAllBytes(path, []);
                return "is not a Keel database: it is empty";
            case "not-sqlite":
                File.WriteAllText(path, "these are my notes, not a database\n");
                return "is not a Keel database or is corrupted";
            case "empty-sqlite":
                // A real SQLite file (header, WAL mode) whose only table was dropped again.
                Sql(path, "PRAGMA journal_mode=WAL; CREATE TABLE t (x); DROP TABLE t;");
                return "is not a Keel database: it is empty";
            case "foreign":
                Sql(path, "PRAGMA journal_mode=WAL; CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello');");
                return "is a SQLite database of another application";
            case "older-keel":
                Sql(path, "PRAGMA journal_mode=WAL; CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); " +
                          "INSERT INTO keel_meta VALUES ('schema_version', '1'); CREATE TABLE runs (run_id TEXT PRIMARY KEY);");
                return "Run `keel migrate --db";
            case "newer-keel":
                Sql(path, "PRAGMA journal_mode=WAL; CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); " +
                          $"INSERT INTO keel_meta VALUES ('schema_version', '{SqliteWorkflowStore.SchemaVersion + 1}');");
                return "Upgrade Keel to open it";
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static void Sql(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
