using Keel.Cli.Demo;

namespace Keel.Cli.Tests.Commands;

public class WorkerCommandTests
{
    [Fact]
    public async Task Worker_Until_RunsDemoWorkflowToCompletionAndExits()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using (var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(dir.DatabasePath);
            k.RunWorker = false;
        }, cancellationToken: ct))
        {
            await KeelClient.Create(keel.Store).StartAsync(ResearchAgentWorkflow.Name, new ResearchRequest("q?"), new StartWorkflowOptions { RunId = "agent-1", AllowUnknownWorkflow = true }, ct);
        }

        var worker = Cli.RunAsync("worker", "--db", dir.DatabasePath, "--until", "agent-1", "--step-delay-ms", "0");
        // The agent asks before it publishes: a person (here, this test) rejects it, and the run completes unpublished.
        await using (var store = new Keel.Sqlite.SqliteWorkflowStore(new Keel.Sqlite.SqliteStoreOptions { Path = dir.DatabasePath }))
        {
            var client = KeelClient.Create(store);
            await TestRuns.UntilAsync(async () =>
            {
                if (worker.IsCompleted)
                {
                    Assert.Fail($"the worker exited before the approval was asked: {await worker}");
                }
                return (await client.ListPendingApprovalsAsync("agent-1", cancellationToken: ct)).Count > 0;
            }, "the agent asks for the approval");
            await client.DecideApprovalAsync("agent-1", new ApprovalResponse { Approved = false, By = "tester", Comment = "not now" }, ct);
        }
        var result = await worker;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("run agent-1 is Completed", result.Out, StringComparison.Ordinal);
        var executions = EffectsLog.Read(DemoSettings.EffectsLogFor(dir.DatabasePath), "agent-1");
        Assert.Equal(
            ["plan/1", "tool:search-web/1", "tool:fetch-pricing/1", "tool:fetch-pricing/2", "tool:fetch-pricing/3", "tool:read-docs/1", "summarize/1"],
            executions.Select(e => $"{e.Step}/{e.Attempt}"));
        Assert.All(executions, e => Assert.Equal(Environment.ProcessId, e.ProcessId));
        var run = await TestRuns.GetRunAsync(dir.DatabasePath, "agent-1");
        var report = run!.GetResult<ResearchReport>();
        Assert.Contains("fetch-pricing: fetched 20 rows after reducing page size because attempt 2 timed out", report!.Findings);
        Assert.Equal("rejected by tester: not now", report.Decision);
        Assert.Null(report.PublishedTo);
    }

    [Theory]
    [InlineData("tool:fetch-pricing")]
    [InlineData("tool:fetch-pricing/0")]
    [InlineData("/2")]
    public async Task Worker_BadHoldAt_ParseErrorAndNoDatabase(string holdAt)
    {
        using var dir = new TempDirectory();

        var result = await Cli.RunAsync("worker", "--db", dir.DatabasePath, "--hold-at", holdAt);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--hold-at must be STEP/ATTEMPT", result.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.DatabasePath));
    }
}
