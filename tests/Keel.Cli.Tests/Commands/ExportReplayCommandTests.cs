using System.Text.Json;

namespace Keel.Cli.Tests.Commands;

public class ExportReplayCommandTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static void V1(KeelBuilder k) => k.AddWorkflow<string, string>("triage", async (ctx, ticket) =>
    {
        var kind = await ctx.StepAsync("classify", _ => Task.FromResult(ticket.Length > 5 ? "long" : "short"));
        return await ctx.StepAsync("draft", _ => Task.FromResult($"{kind} answer"));
    });

    private static void V2Renamed(KeelBuilder k) => k.AddWorkflow<string, string>("triage", async (ctx, ticket) =>
    {
        var kind = await ctx.StepAsync("classify", _ => Task.FromResult("x"));
        return await ctx.StepAsync("compose", _ => Task.FromResult(kind));
    });

    private static async Task<List<string>> RecordAsync(string database)
    {
        var ids = new List<string>();
        await using var keel = await KeelHost.StartAsync(k => V1(k.UseSqlite(database)), cancellationToken: Token);
        foreach (var ticket in new[] { "hi", "a longer ticket" })
        {
            var id = (await keel.Client.StartAsync("triage", ticket, cancellationToken: Token)).RunId;
            await keel.Client.GetResultAsync<string>(id, Token);
            ids.Add(id);
        }
        return ids;
    }

    [Fact]
    public async Task Export_WritesAnArchive_ThatReplay_ChecksAgainstTheHostingAppsCode()
    {
        using var dir = new TempDirectory();
        var ids = await RecordAsync(dir.DatabasePath);
        var file = Path.Combine(dir.Path, "golden.json");

        var export = await Cli.RunAsync("export", "--workflow", "triage", "--last", "10", "--out", file, "--db", dir.DatabasePath);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("Exported 2 run(s)", export.Out, StringComparison.Ordinal);
        var archive = RunArchive.Parse(await File.ReadAllTextAsync(file, Token));
        Assert.Equal(ids.AsEnumerable().Reverse(), archive.Runs.Select(r => r.RunId)); // newest first

        var same = await Cli.RunHostedAsync(V1, "replay", "--file", file);
        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.Contains("2 run(s) replayed: this code resumes every one.", same.Out, StringComparison.Ordinal);

        var renamed = await Cli.RunHostedAsync(V2Renamed, "replay", "--file", file);
        Assert.Equal(1, renamed.ExitCode);
        Assert.Contains($"BLOCKS  {ids[0]} (triage): ", renamed.Out, StringComparison.Ordinal);
        Assert.Contains("the journal recorded step 'draft', but the workflow code now asks for step 'compose'", renamed.Out, StringComparison.Ordinal);
        Assert.Contains("2 would be blocked", renamed.Out, StringComparison.Ordinal);

        // From the live database, as JSON.
        var live = await Cli.RunHostedAsync(V2Renamed, "replay", ids[1], "--json", "--db", dir.DatabasePath);
        Assert.Equal(1, live.ExitCode);
        using var document = JsonDocument.Parse(live.Out);
        var report = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal((2, "step 'draft'"), (report.GetProperty("position").GetInt32(), report.GetProperty("recorded").GetString()));
    }

    [Fact]
    public async Task ExportToStdout_AndBadInput_AreSaidSo()
    {
        using var dir = new TempDirectory();
        var ids = await RecordAsync(dir.DatabasePath);
        var stdout = await Cli.RunAsync("export", ids[0], "--db", dir.DatabasePath);
        Assert.True(stdout.ExitCode == 0, stdout.ToString());
        Assert.Equal(ids[0], RunArchive.Parse(stdout.Out).Runs.Single().RunId);

        Assert.Equal(2, (await Cli.RunAsync("export", "--db", dir.DatabasePath)).ExitCode); // which runs?
        Assert.Equal(3, (await Cli.RunAsync("export", "nope", "--db", dir.DatabasePath)).ExitCode);
        var unhosted = await Cli.RunAsync("replay", ids[0], "--db", dir.DatabasePath);
        Assert.Equal(2, unhosted.ExitCode);
        Assert.Contains("keel replay needs your workflow code", unhosted.Err, StringComparison.Ordinal);
        var foreign = Path.Combine(dir.Path, "foreign.json");
        await File.WriteAllTextAsync(foreign, "{\"format\":\"other/1\",\"runs\":[]}", Token);
        Assert.Equal(2, (await Cli.RunHostedAsync(V1, "replay", "--file", foreign)).ExitCode);
    }
}

public class RetryCommandTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Retry_ListsWithADryRun_ThenRetriesTheFailedRunsOfAWorkflow_AndRefusesOthers()
    {
        using var dir = new TempDirectory();
        var healthy = false;
        var ids = new List<string>();
        await using (var keel = await KeelHost.StartAsync(k => k.UseSqlite(dir.DatabasePath).AddWorkflow<int, int>("charge", (ctx, n) =>
            ctx.StepAsync("charge", _ => healthy ? Task.FromResult(n) : throw new InvalidOperationException("gateway 503"),
                new StepOptions { Retry = RetryPolicy.None })), cancellationToken: Token))
        {
            for (var i = 1; i <= 2; i++)
            {
                var id = (await keel.Client.StartAsync("charge", i, cancellationToken: Token)).RunId;
                Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(id, Token)).Status);
                ids.Add(id);
            }

            var dry = await Cli.RunAsync("retry", "--workflow", "charge", "--dry-run", "--db", dir.DatabasePath);
            Assert.True(dry.ExitCode == 0, dry.ToString());
            Assert.Contains("2 run(s) would be retried (dry run: nothing changed).", dry.Out, StringComparison.Ordinal);
            Assert.Contains("gateway 503", dry.Out, StringComparison.Ordinal);
            Assert.Equal(RunStatus.Failed, (await keel.Client.GetRunAsync(ids[0], Token))!.Status);

            healthy = true;
            var retry = await Cli.RunAsync("retry", "--workflow", "charge", "--by", "ada", "--reason", "gateway fixed", "--db", dir.DatabasePath);
            Assert.True(retry.ExitCode == 0, retry.ToString());
            Assert.Contains("2 run(s) retried.", retry.Out, StringComparison.Ordinal);
            Assert.Equal(1, await keel.Client.GetResultAsync<int>(ids[0], Token));
            Assert.Equal(2, await keel.Client.GetResultAsync<int>(ids[1], Token));
            var show = await Cli.RunAsync("show", ids[0], "--json", "--db", dir.DatabasePath);
            Assert.Contains("\"RunRetried\"", show.Out, StringComparison.Ordinal);

            Assert.Equal(4, (await Cli.RunAsync("retry", ids[0], "--db", dir.DatabasePath)).ExitCode); // Completed: not Failed
            Assert.Equal(3, (await Cli.RunAsync("retry", "nope", "--db", dir.DatabasePath)).ExitCode);
            Assert.Equal(2, (await Cli.RunAsync("retry", "--db", dir.DatabasePath)).ExitCode); // which runs?
        }
    }
}

public class ForkCommandTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fork_WithAReplacedResult_CreatesTheForkAndShowLinksBoth()
    {
        using var dir = new TempDirectory();
        await using var keel = await KeelHost.StartAsync(k => k.UseSqlite(dir.DatabasePath).AddWorkflow<int, string>("two", async (ctx, n) =>
        {
            var a = await ctx.StepAsync("a", _ => Task.FromResult(n));
            var b = await ctx.StepAsync("b", _ => Task.FromResult(n * 10));
            return $"{a}/{b}";
        }), cancellationToken: Token);
        var source = (await keel.Client.StartAsync("two", 4, cancellationToken: Token)).RunId;
        Assert.Equal("4/40", await keel.Client.GetResultAsync<string>(source, Token));

        var fork = await Cli.RunAsync("fork", source, "--at", "2", "--replace-result", "99", "--run-id", "fixed", "--reason", "b was wrong", "--db", dir.DatabasePath);
        Assert.True(fork.ExitCode == 0, fork.ToString());
        Assert.Contains($"Forked {source} at position 2 as run fixed", fork.Out, StringComparison.Ordinal);
        Assert.Equal("4/99", await keel.Client.GetResultAsync<string>("fixed", Token));

        var showFork = await Cli.RunAsync("show", "fixed", "--db", dir.DatabasePath);
        Assert.Contains($"forked from run {source} at position 2, with a replaced result: b was wrong", showFork.Out, StringComparison.Ordinal);
        var showSource = await Cli.RunAsync("show", source, "--db", dir.DatabasePath);
        Assert.Contains("forked as run fixed", showSource.Out, StringComparison.Ordinal);
        Assert.Equal(2, (await Cli.RunAsync("fork", source, "--at", "7", "--db", dir.DatabasePath)).ExitCode);
        Assert.Equal(2, (await Cli.RunAsync("fork", source, "--db", dir.DatabasePath)).ExitCode); // --at is required
    }
}
