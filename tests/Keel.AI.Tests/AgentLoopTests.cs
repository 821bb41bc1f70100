using Microsoft.Extensions.AI;

namespace Keel.AI.Tests;

public class AgentLoopTests
{
    [Fact]
    public async Task TheAgentLoop_JournalsEveryTurnAndTool_AndAResumedRunRepeatsNeither()
    {
        using var dir = new TempDir();
        var modelCalls = 0;
        var toolRuns = 0;
        var model = new ScriptedChatClient((turn, conversation) =>
        {
            Interlocked.Increment(ref modelCalls);
            return turn < 4
                ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent($"call-{turn}", "add", new Dictionary<string, object?> { ["a"] = turn, ["b"] = 10 })])
                : new ChatMessage(ChatRole.Assistant, $"sum of results: {conversation.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Sum(r => int.Parse(r.Result!.ToString()!, System.Globalization.CultureInfo.InvariantCulture))}");
        });
        var add = AIFunctionFactory.Create((int a, int b) =>
        {
            Interlocked.Increment(ref toolRuns);
            return a + b;
        }, "add");
        void Workflows(KeelBuilder k) => k.AddWorkflow<string, string>("loop", async (ctx, goal) =>
        {
            var result = await ctx.RunAgentLoopAsync(model, new AgentLoopOptions { Instructions = "Add things.", Goal = goal, Tools = [add], MaxTurns = 10 });
            await ctx.WaitForSignalAsync<string>("go");
            return $"{result.Text} in {result.Turns} turns, {result.Usage.TotalTokens} tokens";
        });

        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            runId = (await keel.Client.StartAsync("loop", "add 1, 2 and 3 to 10", cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        }
        Assert.Equal((4, 3), (modelCalls, toolRuns));
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            var text = await keel.Client.GetResultAsync<string>(runId, TestHosts.Token);
            Assert.StartsWith("sum of results: 36 in 4 turns", text, StringComparison.Ordinal);
            var usage = await keel.Client.GetTokenUsageAsync(runId, TestHosts.Token);
            Assert.EndsWith($"{usage.TotalTokens} tokens", text, StringComparison.Ordinal);
        }
        Assert.Equal((4, 3), (modelCalls, toolRuns));
    }

    [Fact]
    public async Task TheAgentLoop_RefusesAClientThatInvokesFunctionsItself()
    {
        using var dir = new TempDir();
        var model = new ChatClientBuilder(ScriptedChatClient.FromTurns(new ChatMessage(ChatRole.Assistant, "hi"))).UseKeel().Build();
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, string>("bad-loop", async (ctx, _) =>
            (await ctx.RunAgentLoopAsync(model, new AgentLoopOptions { Instructions = "x", Goal = "y" })).Text));
        var run = await keel.Client.StartAsync("bad-loop", 0, cancellationToken: TestHosts.Token);
        var info = await keel.Client.WaitForCompletionAsync(run.RunId, TestHosts.Token);
        Assert.Equal(RunStatus.Failed, info.Status);
        Assert.Contains("calls the tools itself", info.Error!.Message, StringComparison.Ordinal);
    }
}
