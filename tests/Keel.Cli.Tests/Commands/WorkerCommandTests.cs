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
            await KeelClient.Create(keel.Store).StartAsync(SupportAgentWorkflow.Name, new SupportRequest("ada@example.com", "refund please"), new StartWorkflowOptions { RunId = "agent-1", AllowUnknownWorkflow = true }, ct);
        }

        var worker = Cli.RunAsync("worker", "--db", dir.DatabasePath, "--until", "agent-1", "--step-delay-ms", "0");
        // The agent asks before it refunds: a person (here, this test) rejects it, the model is told, and the run completes.
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
        // turn 2 is rate limited once and turn 3 times out once; the rejected refund never runs.
        Assert.Equal(["model:turn-1/1", "tool:lookup_customer/1", "model:turn-2/2", "model:turn-3/2"], executions.Select(e => $"{e.Step}/{e.Attempt}"));
        Assert.All(executions, e => Assert.Equal(Environment.ProcessId, e.ProcessId));
        var run = await TestRuns.GetRunAsync(dir.DatabasePath, "agent-1");
        var reply = run!.GetResult<SupportReply>();
        Assert.Contains("I could not refund the order: The call to 'refund' was rejected by tester; it did not run. Comment: not now", reply!.Reply, StringComparison.Ordinal);
        Assert.True(reply.Tokens > 0);
    }

    [Theory]
    [InlineData("model:turn-3")]
    [InlineData("model:turn-3/0")]
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
