using Keel.AI.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Keel.AI.Tests;

public class DurableChatTests
{
    private static FakeReply Echo(FakeRequest request) => new($"answer {request.Turn} to {request.LastUserText}");

    [Fact]
    public async Task ChatCalls_AreJournaled_AndAfterARestartReplayNeverCallsTheModelAgain()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(Echo);
        var chat = TestHosts.Durable(server);
        void Workflows(KeelBuilder k) => k.AddWorkflow<string, string>("two-calls", async (ctx, question) =>
        {
            List<ChatMessage> messages = [new(ChatRole.User, question)];
            var first = await chat.GetResponseAsync(messages);
            messages.AddRange(first.Messages);
            messages.Add(new(ChatRole.User, "and then?"));
            var second = await chat.GetResponseAsync(messages);
            var go = await ctx.WaitForSignalAsync<string>("go");
            return $"{first.Text} | {second.Text} | {second.ModelId} | {second.Usage?.TotalTokenCount} | {go}";
        });

        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            runId = (await keel.Client.StartAsync("two-calls", "why?", cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        }
        Assert.Equal(2, server.Requests.Count);

        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            var result = await keel.Client.GetResultAsync<string>(runId, TestHosts.Token);
            Assert.Equal("answer 1 to why? | answer 2 to and then? | gpt-test | 35 | now", result);
            var chats = await TestHosts.CompletedStepsAsync(keel.Client, runId, "chat ");
            Assert.Equal(2, chats.Count);
            Assert.Contains("\"finishReason\":\"stop\"", chats[0].Payload, StringComparison.Ordinal);
            Assert.Contains("\"responseId\":\"chatcmpl-1\"", chats[0].Payload, StringComparison.Ordinal);
        }
        Assert.Equal(2, server.Requests.Count); // replayed from the journal
        Assert.Equal(0, server.RepeatedRequests);
    }

    [Fact]
    public async Task StreamingCalls_RecordTheUpdates_AndReplayThem_WithoutCallingTheModel()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(_ => new FakeReply("streamed answer, in three pieces"));
        var chat = TestHosts.Durable(server);
        void Workflows(KeelBuilder k) => k.AddWorkflow<string, string>("stream", async (ctx, question) =>
        {
            var pieces = new List<string>();
            await foreach (var update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, question)]))
            {
                if (update.Text.Length > 0)
                {
                    pieces.Add(update.Text);
                }
            }
            await ctx.WaitForSignalAsync<string>("go");
            return string.Join("|", pieces);
        });

        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            runId = (await keel.Client.StartAsync("stream", "tell me", cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        }
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            var result = await keel.Client.GetResultAsync<string>(runId, TestHosts.Token);
            Assert.Equal("streamed answer, in three pieces", result.Replace("|", "", StringComparison.Ordinal));
            Assert.True(result.Split('|').Length >= 3, result);
        }
        Assert.Single(server.Requests);
        Assert.True(server.Requests[0].Stream);
    }

    [Fact]
    public async Task OutsideAWorkflow_TheMiddlewarePassesThrough()
    {
        await using var server = await FakeOpenAIServer.StartAsync(Echo);
        var chat = TestHosts.Durable(server);
        var first = await chat.GetResponseAsync("hello", cancellationToken: TestHosts.Token);
        var second = await chat.GetResponseAsync("hello", cancellationToken: TestHosts.Token);
        Assert.Equal("answer 1 to hello", first.Text);
        Assert.Equal("answer 1 to hello", second.Text);
        Assert.Equal(2, server.Requests.Count);
        Assert.Null(WorkflowContext.Current);
    }

    [Fact]
    public async Task AChangedPrompt_AtARecordedPosition_BlocksTheRun_AndTheOptOutLetsItVary()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(Echo);
        var prompt = "version one";
        var checking = TestHosts.Durable(server);
        var lenient = TestHosts.Durable(server, new KeelChatOptions { CheckPrompts = false });
        void Workflows(KeelBuilder k)
        {
            k.AddWorkflow<int, string>("checked", async (ctx, _) =>
            {
                var answer = await checking.GetResponseAsync(prompt);
                await ctx.WaitForSignalAsync<string>("go");
                return answer.Text;
            });
            k.AddWorkflow<int, string>("lenient", async (ctx, _) =>
            {
                var answer = await lenient.GetResponseAsync(prompt);
                await ctx.WaitForSignalAsync<string>("go");
                return answer.Text;
            });
        }

        string checkedRun, lenientRun;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            checkedRun = (await keel.Client.StartAsync("checked", 0, cancellationToken: TestHosts.Token)).RunId;
            lenientRun = (await keel.Client.StartAsync("lenient", 0, cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, checkedRun, RunStatus.Waiting);
            await TestHosts.WaitForStatusAsync(keel.Client, lenientRun, RunStatus.Waiting);
        }
        prompt = "version two, changed by a deploy";
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(checkedRun, "go", "now", TestHosts.Token);
            await keel.Client.SignalAsync(lenientRun, "go", "now", TestHosts.Token);
            await TestHosts.WaitForStatusAsync(keel.Client, checkedRun, RunStatus.Blocked);
            var info = await keel.Client.GetRunAsync(checkedRun, TestHosts.Token);
            Assert.Contains("chat ", info!.StatusReason, StringComparison.Ordinal);
            Assert.Equal("answer 1 to version one", await keel.Client.GetResultAsync<string>(lenientRun, TestHosts.Token));
        }
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Usage_IsJournaledPerCall_AndSummedPerRun_AsTheServerReportedIt()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(Echo);
        var chat = TestHosts.Durable(server);
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, long>("usage", async (ctx, calls) =>
        {
            List<ChatMessage> messages = [];
            for (var i = 0; i < calls; i++)
            {
                messages.Add(new(ChatRole.User, $"question {i}"));
                messages.AddRange((await chat.GetResponseAsync(messages)).Messages);
            }
            return ctx.GetTokenUsage().TotalTokens;
        }));
        var run = await keel.Client.StartAsync("usage", 4, cancellationToken: TestHosts.Token);
        var inWorkflow = await keel.Client.GetResultAsync<long>(run.RunId, TestHosts.Token);
        // Requests carry 1, 3, 5, 7 messages: 10 prompt tokens a message, 5 completion tokens a call.
        Assert.Equal(server.TokensReported, inWorkflow);
        Assert.Equal(10 * (1 + 3 + 5 + 7) + 4 * 5, inWorkflow);
        var summed = await keel.Client.GetTokenUsageAsync(run.RunId, TestHosts.Token);
        Assert.Equal(inWorkflow, summed.TotalTokens);
        Assert.Equal(160, summed.InputTokens);
        Assert.Equal(20, summed.OutputTokens);
        Assert.Equal("gpt-test", summed.Model);
    }

    [Fact]
    public async Task ATokenBudget_StopsTheRun_WithAClearReason()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(Echo);
        var chat = TestHosts.Durable(server, new KeelChatOptions { TokenBudget = new TokenBudget(40) });
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, int>("budget", async (ctx, _) =>
        {
            List<ChatMessage> messages = [];
            for (var i = 0; ; i++)
            {
                messages.Add(new(ChatRole.User, $"question {i}"));
                messages.AddRange((await chat.GetResponseAsync(messages)).Messages);
            }
        }));
        var run = await keel.Client.StartAsync("budget", 0, cancellationToken: TestHosts.Token);
        var info = await keel.Client.WaitForCompletionAsync(run.RunId, TestHosts.Token);
        Assert.Equal(RunStatus.Failed, info.Status);
        // 15 tokens, then 35 more: 50 of 40 after the second call, so there is no third.
        Assert.Contains("token budget is spent: it used 50 tokens of 40", info.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task ATokenBudget_ThatAsksAPerson_WaitsForThem_AndGoesOnWithTheBudgetTheyGive()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(Echo);
        var chat = TestHosts.Durable(server);
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, long>("ask-budget", async (ctx, _) =>
        {
            ctx.SetTokenBudget(new TokenBudget(10, TokenBudgetAction.AskPerson));
            List<ChatMessage> messages = [];
            for (var i = 0; i < 2; i++)
            {
                messages.Add(new(ChatRole.User, $"question {i}"));
                messages.AddRange((await chat.GetResponseAsync(messages)).Messages);
            }
            return ctx.GetTokenUsage().TotalTokens;
        }));
        var run = await keel.Client.StartAsync("ask-budget", 0, cancellationToken: TestHosts.Token);
        await TestHosts.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(run.RunId, cancellationToken: TestHosts.Token)).Count == 1,
            "the run asks to raise its budget");
        var pending = Assert.Single(await keel.Client.ListPendingApprovalsAsync(run.RunId, cancellationToken: TestHosts.Token));
        Assert.Equal("token-budget", pending.Name);
        Assert.Single(server.Requests); // 15 tokens of 10 used: the second call waits
        await keel.Client.DecideApprovalAsync(run.RunId, new ApprovalResponse { Approved = true, By = "ops", ArgumentsJson = """{"maxTokens":100}""" }, TestHosts.Token);
        Assert.Equal(50, await keel.Client.GetResultAsync<long>(run.RunId, TestHosts.Token));
        Assert.Equal(2, server.Requests.Count);
    }
}
