using System.ComponentModel;
using System.Text.Json;
using Keel.AI.Tests.Fakes;
using Keel.AI.TestWorker;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.AI.Tests;

public class ToolTests
{
    /// <summary>Turns 1..n-1 call lookup; turn n answers.</summary>
    private static Func<FakeRequest, FakeReply> LookupScript(int turns) => request => request.Turn < turns
        ? FakeReply.Call("lookup", $$"""{"query":"q{{request.Turn}}"}""")
        : new FakeReply($"done after {request.ToolResults.Count} lookups");

    [Fact]
    public async Task ToolCalls_ThroughFunctionInvocation_AreJournaledSteps_AndAreNotRunAgainOnReplay()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(LookupScript(4));
        var log = new ToolLog(null);
        void Services(IServiceCollection s) => s.AddSingleton(log).AddSingleton(TestHosts.Durable(server));
        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<ToolLoopAgent>(), Services))
        {
            runId = (await keel.Client.StartAsync("tool-loop", "find it", cancellationToken: TestHosts.Token)).RunId;
            var result = await keel.Client.GetResultAsync<AgentRunResult>(runId, TestHosts.Token);
            Assert.Equal("done after 3 lookups", result.Text);
            var journal = await keel.Client.GetJournalAsync(runId, TestHosts.Token);
            Assert.Equal(["chat", "tool lookup", "chat", "tool lookup", "chat", "tool lookup", "chat"],
                journal.Where(e => e.Kind == JournalEntryKind.StepCompleted).Select(e => e.Name.StartsWith("chat ", StringComparison.Ordinal) ? "chat" : e.Name));
            // The model got the journaled tool results (about 1 KB each).
            Assert.Contains("Facts about q3", server.Requests[^1].ToolResults[2], StringComparison.Ordinal);
        }
        Assert.Equal(["q1", "q2", "q3"], log.Queries());
        await using (var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<ToolLoopAgent>(), Services))
        {
            // Each choice of the model, in order, with the arguments it chose.
            var choices = (await keel.Client.GetHistoryAsync(runId, TestHosts.Token))!.Decisions.Where(d => d.Kind == DecisionKind.ToolChoice).ToList();
            Assert.Equal(["q1", "q2", "q3"], choices.Select(c => c.ProposedArguments!.Value.GetProperty("query").GetString()));
            Assert.All(choices, c => Assert.Equal("lookup", c.Name));
        }
        Assert.Equal(4, server.Requests.Count);
        Assert.Equal(0, server.RepeatedRequests);
    }

    [Fact]
    public async Task AStreamedToolLoop_IsJournaled_AndReplaysWithoutCallingTheModelOrTheTools()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(LookupScript(3));
        var chat = TestHosts.Durable(server);
        var log = new ToolLog(null);
        var lookup = AIFunctionFactory.Create((string query) => log.Lookup(query), "lookup");
        void Workflows(KeelBuilder k) => k.AddWorkflow<int, string>("stream-tools", async (ctx, _) =>
        {
            var text = "";
            await foreach (var update in chat.GetStreamingResponseAsync("find it", new ChatOptions { Tools = [lookup] }))
            {
                text += update.Text;
            }
            await ctx.WaitForSignalAsync<string>("go");
            return text;
        });
        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            runId = (await keel.Client.StartAsync("stream-tools", 0, cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        }
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            Assert.Equal("done after 2 lookups", await keel.Client.GetResultAsync<string>(runId, TestHosts.Token));
            Assert.Equal(2, (await TestHosts.CompletedStepsAsync(keel.Client, runId, "tool lookup")).Count);
        }
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.True(r.Stream));
        Assert.Equal(["q1", "q2"], log.Queries());
    }

    [Fact]
    public async Task ToolsInvokedConcurrently_TakeTheirPositionsInCallOrder_AndReplay()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(request => request.Turn == 1
            ? new FakeReply(null, [.. Enumerable.Range(1, 4).Select(i => new FakeToolCall("lookup", $$"""{"query":"p{{i}}"}"""))])
            : new FakeReply(string.Join(",", request.ToolResults.Select(r => r[..r.IndexOf(':', StringComparison.Ordinal)]))));
        var chat = new ChatClientBuilder(TestHosts.OpenAI(server)).UseKeel(configureFunctionInvocation: f => f.AllowConcurrentInvocation = true).Build();
        var log = new ToolLog(null);
        var lookup = AIFunctionFactory.Create(async (string query) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(query == "p1" ? 50 : 1), TimeProvider.System); // finish out of order
            return log.Lookup(query);
        }, "lookup");
        void Workflows(KeelBuilder k) => k.AddWorkflow<int, string>("parallel-tools", async (ctx, _) =>
        {
            var answer = await chat.GetResponseAsync("look up four things", new ChatOptions { Tools = [lookup] });
            await ctx.WaitForSignalAsync<string>("go");
            return answer.Text;
        });
        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            runId = (await keel.Client.StartAsync("parallel-tools", 0, cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        }
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            Assert.Equal("Facts about p1,Facts about p2,Facts about p3,Facts about p4", await keel.Client.GetResultAsync<string>(runId, TestHosts.Token));
            var tools = await TestHosts.CompletedStepsAsync(keel.Client, runId, "tool lookup");
            Assert.Equal([2, 3, 4, 5], tools.Select(e => e.Sequence).Order());
        }
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(4, log.Queries().Count);
    }

    [Fact]
    public async Task EffectKinds_ComeFromTheAttributeOrTheWrapper()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(request => request.Turn switch
        {
            1 => new FakeReply(null, [new FakeToolCall("send_email", """{"to":"ada@example.com"}"""), new FakeToolCall("charge", """{"cents":500}""")]),
            _ => new FakeReply("sent and charged"),
        });
        var chat = TestHosts.Durable(server);
        string? key = null;
        var email = AIFunctionFactory.Create(SendEmail, "send_email");
        var charge = KeelTools.Idempotent(AIFunctionFactory.Create((int cents) =>
        {
            key = KeelTools.CurrentStep?.IdempotencyKey;
            return $"charged {cents}";
        }, "charge"));
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, string>("effects", async (ctx, _) =>
            (await chat.GetResponseAsync("do it", new ChatOptions { Tools = [email, charge] })).Text));
        var run = await keel.Client.StartAsync("effects", 0, cancellationToken: TestHosts.Token);
        Assert.Equal("sent and charged", await keel.Client.GetResultAsync<string>(run.RunId, TestHosts.Token));
        var journal = await keel.Client.GetJournalAsync(run.RunId, TestHosts.Token);
        // AtMostOnce commits a started record before its body runs; the others do not.
        Assert.Single(journal, e => e.Kind == JournalEntryKind.StepStarted && e.Name == "tool send_email");
        Assert.True(journal.Any(e => e.Name == "tool charge"), string.Join(" / ", server.Requests[^1].ToolResults));
        Assert.DoesNotContain(journal, e => e.Kind == JournalEntryKind.StepStarted && e.Name == "tool charge");
        var chargeStep = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepCompleted && e.Name == "tool charge");
        Assert.Equal($"{run.RunId}/{chargeStep.Name}", key); // by name: does not move when other steps come before it
    }

    [ToolEffect(StepEffect.AtMostOnce)]
    [Description("Sends an email.")]
    private static string SendEmail(string to) => $"sent to {to}";

    [Fact]
    public async Task ApprovalRequiredTools_WaitForAKeelApproval_AndRunWithTheArgumentsTheApproverEdited()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(request => request.Turn == 1
            ? FakeReply.Call("refund", """{"orderId":"A-1","cents":5000}""")
            : new FakeReply($"tool said: {request.ToolResults[0]}"));
        var chat = TestHosts.Durable(server);
        var refunds = new List<(string, int)>();
        var refund = new ApprovalRequiredAIFunction(KeelTools.AtMostOnce(AIFunctionFactory.Create((string orderId, int cents) =>
        {
            lock (refunds)
            {
                refunds.Add((orderId, cents));
            }
            return $"refunded {cents} on {orderId}";
        }, "refund", "Refunds an order.")));
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, string>("refund", async (ctx, _) =>
            (await chat.GetResponseAsync("refund my order", new ChatOptions { Tools = [refund] })).Text));
        var run = await keel.Client.StartAsync("refund", 0, cancellationToken: TestHosts.Token);
        await TestHosts.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(run.RunId, cancellationToken: TestHosts.Token)).Count == 1,
            "the refund waits for approval");
        var pending = Assert.Single(await keel.Client.ListPendingApprovalsAsync(run.RunId, cancellationToken: TestHosts.Token));
        Assert.Equal("refund", pending.Name);
        Assert.Equal(5000, JsonDocument.Parse(pending.ArgumentsJson).RootElement.GetProperty("cents").GetInt32());
        await TestHosts.WaitForStatusAsync(keel.Client, run.RunId, RunStatus.Waiting);
        Assert.Empty(refunds);

        await keel.Client.DecideApprovalAsync(run.RunId, new ApprovalResponse
        {
            Approved = true, By = "lead", ArgumentsJson = """{"orderId":"A-1","cents":2500}""",
        }, TestHosts.Token);
        Assert.Equal("tool said: refunded 2500 on A-1", await keel.Client.GetResultAsync<string>(run.RunId, TestHosts.Token));
        Assert.Equal([("A-1", 2500)], refunds);

        // What the model chose is journaled once (the run replayed its chat after the approval), apart from what the person
        // decided; the handoff tells both.
        var history = (await keel.Client.GetHistoryAsync(run.RunId, TestHosts.Token))!;
        var choice = Assert.Single(history.Decisions, d => d.Kind == DecisionKind.ToolChoice);
        Assert.Equal("refund", choice.Name);
        Assert.Equal(5000, choice.ProposedArguments!.Value.GetProperty("cents").GetInt32());
        var decided = RunHandoff.From(history).Decided;
        var chose = Assert.Single(decided, d => d.Kind == DecisionKind.ToolChoice);
        Assert.Contains("chose to call refund with {\"orderId\":\"A-1\",\"cents\":5000}", chose.Summary, StringComparison.Ordinal);
        Assert.Contains(decided, d => d.Kind == DecisionKind.Approval && d.By == "lead" && d.Changes.Count == 1);
    }

    [Fact]
    public async Task ARejectedToolCall_GoesBackToTheModel_WithTheComment()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(request => request.Turn == 1
            ? FakeReply.Call("refund", """{"orderId":"A-2","cents":90000}""")
            : new FakeReply("I could not refund it."));
        var chat = TestHosts.Durable(server);
        var ran = 0;
        var refund = new ApprovalRequiredAIFunction(AIFunctionFactory.Create((string orderId, int cents) => Interlocked.Increment(ref ran), "refund"));
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, string>("reject", async (ctx, _) =>
            (await chat.GetResponseAsync("refund everything", new ChatOptions { Tools = [refund] })).Text));
        var run = await keel.Client.StartAsync("reject", 0, cancellationToken: TestHosts.Token);
        await TestHosts.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(run.RunId, cancellationToken: TestHosts.Token)).Count == 1,
            "the refund waits for approval");
        await keel.Client.DecideApprovalAsync(run.RunId, new ApprovalResponse { Approved = false, By = "lead", Comment = "over the 500 limit" }, TestHosts.Token);
        Assert.Equal("I could not refund it.", await keel.Client.GetResultAsync<string>(run.RunId, TestHosts.Token));
        Assert.Equal(0, ran);
        var toolResult = Assert.Single(server.Requests[^1].ToolResults);
        Assert.Contains("rejected by lead", toolResult, StringComparison.Ordinal);
        Assert.Contains("over the 500 limit", toolResult, StringComparison.Ordinal);
    }
}
