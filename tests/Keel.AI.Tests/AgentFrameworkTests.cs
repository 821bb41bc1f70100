using Keel.AI.Tests.Fakes;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Keel.AI.Tests;

public class AgentFrameworkTests
{
    [Fact]
    public async Task AChatClientAgent_RunsDurably_AndItsSessionContinuesAcrossRunsAndARestart()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(request => request.LastUserText switch
        {
            "what is my order status?" when request.ToolResults.Count == 0 => FakeReply.Call("order_status", """{"orderId":"A-7"}"""),
            "what is my order status?" => new FakeReply($"Your order: {request.ToolResults[0]}"),
            _ => new FakeReply($"You asked me {request.Messages.Count(m => m?["role"]?.GetValue<string>() == "user")} questions."),
        });
        var lookups = 0;
        var status = AIFunctionFactory.Create((string orderId) =>
        {
            Interlocked.Increment(ref lookups);
            return $"{orderId} shipped";
        }, "order_status", "Looks up an order.");
        AIAgent agent = new ChatClientAgent(TestHosts.Durable(server), "You are a support agent.", "support", tools: [status]);

        AgentTurnResult first;
        await using (var keel = await TestHosts.StartAsync(dir.Db, k => k.AddAgent("support", agent)))
        {
            first = await keel.Client.RunAgentTurnAsync("support", "ada", "what is my order status?", TestHosts.Token);
            Assert.Equal("Your order: A-7 shipped", first.Text);
            var journal = await keel.Client.GetJournalAsync("ada:turn-1", TestHosts.Token);
            Assert.Contains(journal, e => e.Kind == JournalEntryKind.StepCompleted && e.Name == "tool order_status");
            Assert.Equal(2, journal.Count(e => e.Kind == JournalEntryKind.StepCompleted && e.Name.StartsWith("chat ", StringComparison.Ordinal)));
            Assert.Equal(server.TokensReported, first.Usage.TotalTokens);
        }
        Assert.Equal(2, server.Requests.Count);

        // A new process: the session lives in Keel's store and the conversation continues.
        await using (var keel = await TestHosts.StartAsync(dir.Db, k => k.AddAgent("support", agent)))
        {
            var second = await keel.Client.RunAgentTurnAsync("support", "ada", "thanks, anything else?", TestHosts.Token);
            Assert.Equal("You asked me 2 questions.", second.Text);
            var request = server.Requests[^1];
            Assert.Contains("A-7 shipped", request.AllText, StringComparison.Ordinal); // the first turn's tool result is in the history
        }
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(1, lookups);
        Assert.Equal(0, server.RepeatedRequests);
    }

    [Fact]
    public async Task AnAgentWithoutADurableChatClient_IsRefused()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(_ => new FakeReply("hi"));
        AIAgent agent = new ChatClientAgent(TestHosts.OpenAI(server), "You are a support agent.", "plain");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await TestHosts.StartAsync(dir.Db, k => k.AddAgent("plain", agent)));
        Assert.Contains("UseKeel()", ex.Message, StringComparison.Ordinal);
    }
}
