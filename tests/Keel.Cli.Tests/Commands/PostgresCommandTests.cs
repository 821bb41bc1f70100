using Npgsql;

namespace Keel.Cli.Tests.Commands;

/// <summary>The inspection commands and <c>keel serve</c> work against PostgreSQL the same as against SQLite.</summary>
public class PostgresCommandTests
{
    [Fact]
    public async Task RunsShowServeAndCancel_WithPostgres_WorkAsWithSqlite()
    {
        var admin = Environment.GetEnvironmentVariable("KEEL_TEST_POSTGRES")
            ?? throw new InvalidOperationException("KEEL_TEST_POSTGRES is not set: run ./test.sh, which starts a throwaway PostgreSQL.");
        var database = "keel_cli_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = false }.ToString();

        var early = await Cli.RunAsync("runs", "--postgres", connectionString);
        Assert.Equal(5, early.ExitCode); // inspection never creates the schema
        Assert.Contains("keel migrate", early.Err, StringComparison.Ordinal);
        var migrate = await Cli.RunAsync("migrate", "--postgres", connectionString);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        Assert.Contains("is at version", migrate.Out, StringComparison.Ordinal);

        await using (var keel = await KeelHost.StartAsync(k => k
            .UsePostgres(connectionString)
            .AddWorkflow<int, int>("double", async (ctx, n) => await ctx.StepAsync("times-two", _ => Task.FromResult(n * 2))),
            cancellationToken: TestContext.Current.CancellationToken))
        {
            await keel.Client.StartAsync("double", 21, new StartWorkflowOptions { RunId = "pg-run" }, TestContext.Current.CancellationToken);
            Assert.Equal(42, await keel.Client.GetResultAsync<int>("pg-run", TestContext.Current.CancellationToken));
            await keel.StopAsync(TestContext.Current.CancellationToken);
            await keel.Client.StartWithJsonAsync("double", "1", new StartWorkflowOptions { RunId = "pg-pending" }, TestContext.Current.CancellationToken);
        }

        var runs = await Cli.RunAsync("runs", "--postgres", connectionString);
        Assert.True(runs.ExitCode == 0, runs.ToString());
        Assert.Matches(@"(?m)^pg-run\s+double\s+Completed\s", runs.Out);

        var show = await Cli.RunAsync("show", "pg-run", "--postgres", connectionString);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Matches(@"(?m)^Result\s+42$", show.Out);
        Assert.Contains("times-two", show.Out, StringComparison.Ordinal);

        var served = await ServeCommandTests.WithServerAsync(["--postgres", connectionString], async (_, http) =>
        {
            var page = await http.GetStringAsync("api/runs?status=Completed", TestContext.Current.CancellationToken);
            Assert.Contains("\"runId\":\"pg-run\"", page, StringComparison.Ordinal);
            Assert.DoesNotContain("pg-pending", page, StringComparison.Ordinal);
        });
        Assert.True(served.ExitCode == 0, served.ToString());

        var cancel = await Cli.RunAsync("cancel", "pg-pending", "--postgres", connectionString);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        var missing = await Cli.RunAsync("show", "nope", "--postgres", connectionString);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("'nope'", missing.Err, StringComparison.Ordinal);
    }
}
