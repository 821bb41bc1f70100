namespace Keel.Cli.Tests.Commands;

public class ResolveCommandTests
{
    [Fact]
    public async Task Resolve_GuardedStep_RunsIt_AndBadInputIsRefusedClearly()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, k => k.AddWorkflow<int, string>("guarded", (ctx, _) =>
            ctx.StepAsync("wire-money", _ => Task.FromResult("wired"), new StepOptions { Requires = [StepGuard.ApprovalGranted("wire")] })));
        var runId = (await keel.Client.StartAsync("guarded", 0, cancellationToken: ct)).RunId;
        var done = (await keel.Client.StartAsync(TestRuns.Add, 1, cancellationToken: ct)).RunId;
        await keel.Client.GetResultAsync<int>(done, ct);
        await TestRuns.UntilAsync(async () => (await keel.Client.GetRunAsync(runId, ct))!.Status == RunStatus.NeedsAttention, "the run needs attention");

        var show = await Cli.RunAsync("show", runId, "--db", dir.DatabasePath);
        Assert.Contains("NeedsAttention", show.Out, StringComparison.Ordinal);
        Assert.Contains("approval 'wire' was granted earlier in this run", show.Out, StringComparison.Ordinal);
        Assert.Contains($"Resolve it: keel resolve {runId} --retry | --complete-with JSON | --fail REASON", show.Out, StringComparison.Ordinal);

        var none = await Cli.RunAsync("resolve", runId, "--db", dir.DatabasePath);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("exactly one of --retry, --complete-with JSON or --fail REASON", none.Err, StringComparison.Ordinal);
        var two = await Cli.RunAsync("resolve", runId, "--retry", "--fail", "x", "--db", dir.DatabasePath);
        Assert.Equal(2, two.ExitCode);
        var badJson = await Cli.RunAsync("resolve", runId, "--complete-with", "{nope", "--db", dir.DatabasePath);
        Assert.Equal(2, badJson.ExitCode);
        Assert.Contains("not valid JSON", badJson.Err, StringComparison.Ordinal);
        var unknown = await Cli.RunAsync("resolve", "missing", "--retry", "--db", dir.DatabasePath);
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("missing", unknown.Err, StringComparison.Ordinal);
        var finished = await Cli.RunAsync("resolve", done, "--retry", "--db", dir.DatabasePath);
        Assert.Equal(4, finished.ExitCode);
        Assert.Contains("already finished", finished.Err, StringComparison.Ordinal);

        var retry = await Cli.RunAsync("resolve", runId, "--retry", "--by", "dana", "--reason", "approved on the phone", "--db", dir.DatabasePath);
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains("Step 'wire-money'", retry.Out, StringComparison.Ordinal);
        Assert.Equal("wired", await keel.Client.GetResultAsync<string>(runId, ct));
        var after = await Cli.RunAsync("show", runId, "--db", dir.DatabasePath);
        Assert.Contains("resolved at", after.Out, StringComparison.Ordinal);
        Assert.Contains("retry by dana (approved on the phone)", after.Out, StringComparison.Ordinal);
    }
}
