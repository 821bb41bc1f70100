using Keel.AI.Tests.Fakes;
using Keel.AI.TestWorker;
using Keel.Sqlite;

namespace Keel.AI.Tests;

public class CrashTests
{
    [Fact]
    public async Task AWorkerKilledMidLoop_Resumes_WithNoRepeatedModelRequestAndNoRepeatedToolCall()
    {
        const int turns = 20;
        const int killAt = 11;
        using var dir = new TempDir();
        var toolLog = dir.File("tools.log");
        await using var server = await FakeOpenAIServer.StartAsync(request => request.Turn < turns
            ? FakeReply.Call("lookup", $$"""{"query":"q{{request.Turn}}"}""")
            : new FakeReply($"done after {request.ToolResults.Count} lookups"));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.BeforeReply = async (request, token) =>
        {
            if (request.Turn == killAt && !reached.Task.IsCompleted)
            {
                reached.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, token); // held until the worker dies
            }
        };

        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = dir.Db });
        await store.InitializeAsync(TestHosts.Token);
        var client = KeelClient.Create(store);
        var run = await client.StartAsync("tool-loop", "find it", new StartWorkflowOptions { AllowUnknownWorkflow = true }, TestHosts.Token);

        using (var first = WorkerProcess.Start(dir.Db, server.Endpoint, toolLog))
        {
            await reached.Task.WaitAsync(TimeSpan.FromSeconds(60), TestHosts.Token);
            await first.KillAsync(); // SIGKILL while the model answers turn 11
        }
        Assert.Equal(killAt - 1, File.ReadAllLines(toolLog).Length);

        using var second = WorkerProcess.Start(dir.Db, server.Endpoint, toolLog);
        var result = await client.GetResultAsync<AgentRunResult>(run.RunId, TestHosts.Token).WaitAsync(TimeSpan.FromSeconds(60), TestHosts.Token);
        await second.KillAsync();

        Assert.Equal($"done after {turns - 1} lookups", result.Text);
        Assert.Equal(0, server.RepeatedRequests);
        Assert.All(server.Answered, a => Assert.Equal(1, a.Value));
        Assert.Equal(turns, server.Answered.Count);
        // The turn the kill interrupted was asked again; no other request was repeated.
        Assert.Equal(turns + 1, server.Requests.Count);
        Assert.Equal(Enumerable.Range(1, turns - 1).Select(i => $"q{i}"), File.ReadAllLines(toolLog));
        Assert.Equal(server.TokensReported, result.TotalTokens);

        // The run's totals were kept with each journaled call, across the SIGKILL: exactly the journal's sum, each call once.
        var fromJournal = await client.GetTokenUsageAsync(run.RunId, TestHosts.Token);
        var info = await client.GetRunAsync(run.RunId, TestHosts.Token);
        Assert.Equal(new TokenTotals(fromJournal.InputTokens, fromJournal.OutputTokens, fromJournal.TotalTokens, turns), info!.Tokens);
        Assert.Equal(server.TokensReported, info.Tokens!.TotalTokens);
    }
}
