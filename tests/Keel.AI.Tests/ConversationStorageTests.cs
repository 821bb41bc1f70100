using System.Globalization;
using System.Text;
using System.Text.Json;
using Keel.AI.Tests.Fakes;
using Keel.AI.TestWorker;
using Keel.Testing;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Keel.AI.Tests;

/// <summary>Conversations stored by reference: each message once, model calls as references, replay from the stored messages.</summary>
public class ConversationStorageTests
{
    public static TheoryData<string> Stores => new() { "sqlite", "postgres" };

    /// <summary>A research loop through the official OpenAI client and UseKeel(): the model asks for one lookup per turn
    /// until the last turn answers; the run then waits for a signal, so a restart replays the whole conversation.</summary>
    private static void Loop(KeelBuilder k, IChatClient chat, ToolLog log) => k.AddWorkflow<string, string>("long-loop", async (ctx, goal) =>
    {
        var lookup = AIFunctionFactory.Create((string query) => log.Lookup(query), "lookup", "Looks up a fact.");
        var response = await chat.GetResponseAsync(
            [new(ChatRole.System, "You are a research agent. Use the lookup tool until you can answer."), new(ChatRole.User, goal)],
            new ChatOptions { Tools = [lookup] });
        await ctx.WaitForSignalAsync<string>("go");
        return $"{response.Text} ({response.Messages.Count} messages)";
    });

    private static Task<FakeOpenAIServer> ServerAsync(int turns) => FakeOpenAIServer.StartAsync(request => request.Turn < turns
        ? FakeReply.Call("lookup", string.Create(CultureInfo.InvariantCulture, $$"""{"query":"q{{request.Turn}}"}"""))
        : new FakeReply($"done after {request.ToolResults.Count} lookups"));

    /// <summary>Runs the loop through every turn the server answers, until it waits for "go", and stops its worker.</summary>
    private static async Task<(IChatClient Chat, ToolLog Log, string RunId)> RunLoopUntilItWaitsAsync(TestStore store, FakeOpenAIServer server)
    {
        var chat = TestHosts.Durable(server);
        var log = new ToolLog(null);
        await using var keel = await store.StartAsync(k => Loop(k, chat, log));
        var runId = (await keel.Client.StartAsync("long-loop", "find the facts", cancellationToken: TestHosts.Token)).RunId;
        await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        return (chat, log, runId);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AHundredTurnLoop_StoresEachMessageOnce_JournalsReferencesThatGrowLinearly_AndReplaysWithoutTheModel(string kind)
    {
        const int turns = 100;
        await using var store = new TestStore(kind);
        await using var server = await ServerAsync(turns);
        var (chat, log, runId) = await RunLoopUntilItWaitsAsync(store, server);
        Assert.Equal(turns, server.Requests.Count);

        // Each distinct message once: the system and user messages, and per turn the model's message and (but the last) the
        // tool's message, whose ~1 KB result is stored on its own, once for the tool's step and the message. Not once per
        // call that sent it.
        var distinct = 2 + turns + 2 * (turns - 1);
        var messages = await store.NumbersAsync("SELECT count(*), sum(length(hash) + length(body)) FROM messages;");
        var links = await store.NumbersAsync("SELECT count(*), sum(length(run_id) + length(hash)) FROM run_messages;");
        Assert.Equal(distinct, messages[0]);
        Assert.Equal(distinct, links[0]);
        // The conversation as the last request carried it (every message but the final answer), in the chat API's JSON:
        // the stored messages are about that once (M.E.AI's JSON is a little wordier), not its square.
        var conversation = Encoding.UTF8.GetByteCount(server.Requests[^1].Messages.ToJsonString());
        Assert.InRange(messages[1], conversation / 2, conversation * 2);

        // Each model call journals its new messages' hashes and its response, not the conversation: the records do not grow
        // with the turn, so the journal grows linearly.
        await using var reader = store.Create();
        var journal = await reader.GetJournalAsync(runId, TestHosts.Token);
        var calls = journal.Where(e => e.Kind == JournalEntryKind.StepCompleted && e.Name.StartsWith("chat ", StringComparison.Ordinal)).ToList();
        Assert.Equal(turns, calls.Count);
        var sizes = calls.Select(c => Encoding.UTF8.GetByteCount(c.Payload!)).ToList();
        Assert.All(sizes, size => Assert.InRange(size, 100, 1500));
        long Bytes(IEnumerable<JournalEntry> entries) => entries.Sum(e => (long)Encoding.UTF8.GetByteCount(e.Name) + Encoding.UTF8.GetByteCount(e.Payload ?? ""));
        var firstHalf = Bytes(journal.Where(e => e.Sequence <= journal.Max(x => x.Sequence) / 2));
        var secondHalf = Bytes(journal.Where(e => e.Sequence > journal.Max(x => x.Sequence) / 2));
        Assert.InRange(secondHalf, firstHalf * 8 / 10, firstHalf * 12 / 10);
        var stored = await store.NumbersAsync("SELECT count(*), sum(length(name) + coalesce(length(payload), 0)) FROM journal;");
        Assert.True(stored[1] < conversation, $"the journal holds {stored[1]} bytes for a conversation of {conversation}");
        TestContext.Current.SendDiagnosticMessage($"{kind}: conversation {conversation} B; journal {stored[1]} B; messages {messages[1]} B; " +
            $"links {links[1]} B; ratio {(stored[1] + messages[1] + links[1]) / (double)conversation:F2}");
        // Journal, messages and links together: about the conversation once (W6's storage_ratio counts the same).
        Assert.True(stored[1] + messages[1] + links[1] < conversation * 2,
            $"journal {stored[1]} + messages {messages[1]} + links {links[1]} bytes for a conversation of {conversation}");

        // A restart replays the 100 turns from the journal and the stored messages: the model is not asked again.
        await using (var keel = await store.StartAsync(k => Loop(k, chat, log)))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            var text = await keel.Client.GetResultAsync<string>(runId, TestHosts.Token);
            Assert.Equal($"done after {turns - 1} lookups ({2 * turns - 1} messages)", text);
        }
        Assert.Equal(turns, server.Requests.Count);
        Assert.Equal(0, server.RepeatedRequests);
        Assert.Equal(turns - 1, log.Queries().Count);
        Assert.Equal(distinct, (await store.NumbersAsync("SELECT count(*) FROM messages;"))[0]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task AJournalWrittenWithInlineResponses_StillReplays_WithNoStoredMessages(string kind)
    {
        const int turns = 5;
        await using var store = new TestStore(kind);
        await using var server = await ServerAsync(turns);
        var (chat, log, runId) = await RunLoopUntilItWaitsAsync(store, server);

        // Rewrite the journal as Keel.AI wrote it before messages were stored by reference (each response whole, no
        // prompt), and drop the stored messages: the run must replay from the journal alone.
        await using (var writer = store.Create())
        {
            var stored = await writer.GetRunMessagesAsync(runId, TestHosts.Token);
            foreach (var entry in (await writer.GetJournalAsync(runId, TestHosts.Token)).Where(e => e.Kind == JournalEntryKind.StepCompleted))
            {
                using var record = JsonDocument.Parse(entry.Payload!);
                var inline = entry.Name.StartsWith("chat ", StringComparison.Ordinal)
                    ? ChatRecord.WriteInline(ChatRecord.ReadResponse(record.RootElement, h => stored.GetValueOrDefault(h))).GetRawText()
                    : stored[record.RootElement.GetProperty("keel.messages").GetString()!]; // a tool's result, as it was journaled
                await store.ExecuteAsync("UPDATE journal SET payload = @payload WHERE run_id = @run AND idx = @idx;",
                    ("payload", inline), ("run", runId), ("idx", entry.Index));
            }
        }
        await store.ExecuteAsync("DELETE FROM run_messages;");
        await store.ExecuteAsync("DELETE FROM messages;");
        await using (var reader = store.Create())
        {
            Assert.DoesNotContain(await reader.GetJournalAsync(runId, TestHosts.Token), e => e.Payload?.Contains("keel.messages", StringComparison.Ordinal) == true);
        }

        await using (var keel = await store.StartAsync(k => Loop(k, chat, log)))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            Assert.Equal($"done after {turns - 1} lookups ({2 * turns - 1} messages)", await keel.Client.GetResultAsync<string>(runId, TestHosts.Token));
            Assert.Equal(server.TokensReported, (await keel.Client.GetTokenUsageAsync(runId, TestHosts.Token)).TotalTokens);
        }
        Assert.Equal(turns, server.Requests.Count);
        Assert.Equal(turns - 1, log.Queries().Count);
    }

    [Fact]
    public async Task AnExportedAIRun_ReplaysHermetically_FromTheMessagesTheArchiveCarries()
    {
        const int turns = 6;
        await using var store = new TestStore("sqlite");
        await using var server = await ServerAsync(turns);
        var chat = TestHosts.Durable(server);
        var log = new ToolLog(null);
        RunArchive archive;
        await using (var keel = await store.StartAsync(k => Loop(k, chat, log)))
        {
            var runId = (await keel.Client.StartAsync("long-loop", "find the facts", cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            await keel.Client.GetResultAsync<string>(runId, TestHosts.Token);
            archive = RunArchive.Parse((await keel.Client.ExportAsync([runId], TestHosts.Token)).ToJson());
        }
        Assert.Equal(2 + turns + 2 * (turns - 1), archive.Messages!.Count);
        var requests = server.Requests.Count;

        using var replayer = new WorkflowReplayer(k => Loop(k, chat, log));
        var report = Assert.Single(replayer.Replay(archive));
        Assert.True(report.Compatible, report.Message);
        Assert.True(report.CodeReturned);
        Assert.Equal(requests, server.Requests.Count); // no live call
        Assert.Equal(turns - 1, log.Queries().Count);

        // Without the messages the replay cannot read the responses, and says so.
        var bare = Assert.Single(replayer.Replay(archive with { Messages = null }));
        Assert.False(bare.Compatible);
        Assert.Contains("which is not there", bare.Message, StringComparison.Ordinal);

        // An archive of runs without stored messages has no messages field (the format as it was).
        Assert.DoesNotContain("\"messages\"", new RunArchive { Runs = archive.Runs }.ToJson(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task ALongAgentSession_KeepsEachMessageOnce_AndItsTurnsPassAReference(string kind)
    {
        const int turns = 8;
        await using var store = new TestStore(kind);
        await using var server = await FakeOpenAIServer.StartAsync(request =>
            new FakeReply($"answer {request.Messages.Count(m => m?["role"]?.GetValue<string>() == "user")}: " + new string('x', 400)));
        AIAgent agent = new ChatClientAgent(TestHosts.Durable(server), "You are a support agent.", "support");
        var rows = new List<long>();
        await using (var keel = await store.StartAsync(k => k.AddAgent("support", agent)))
        {
            for (var turn = 1; turn <= turns; turn++)
            {
                var result = await keel.Client.RunAgentTurnAsync("support", "ada", $"question {turn}", TestHosts.Token);
                Assert.StartsWith($"answer {turn}: ", result.Text, StringComparison.Ordinal);
                // The turn's result (and so the next turn's input) names the session's snapshot; it does not hold it.
                Assert.True(AgentSessions.IsReference(result.Session, out _), result.Session.GetRawText());
                Assert.True(result.Session.GetRawText().Length < 100);
                rows.Add((await store.NumbersAsync("SELECT count(*) FROM messages;"))[0]);
            }
        }
        // Each message once: every turn adds the same number of rows (its question and answer, as sent and as the session
        // keeps them, and the session's snapshot), however long the conversation is.
        Assert.All(rows.Zip(rows.Skip(1), (a, b) => b - a), step => Assert.Equal(rows[2] - rows[1], step));
        Assert.Equal(turns, server.Requests.Count);
        Assert.Equal(2 * turns, server.Requests[^1].Messages.Count(m => m?["role"]?.GetValue<string>() is "user" or "assistant") + 1);

        // An export of a later turn carries the session its input names: it replays with no store.
        await using (var reader = store.Create())
        {
            var archive = RunArchive.Parse((await KeelClient.Create(reader).ExportAsync(["ada:turn-5"], TestHosts.Token)).ToJson());
            using var replayer = new WorkflowReplayer(k => k.AddAgent("support", agent));
            var report = Assert.Single(replayer.Replay(archive));
            Assert.True(report.Compatible && report.CodeReturned, report.Message);
        }
        Assert.Equal(turns, server.Requests.Count);

        // A turn given a session the way turns passed it before (the session itself) continues it too.
        await using (var keel = await store.StartAsync(k => k.AddAgent("support", agent)))
        {
            var inline = await agent.SerializeSessionAsync(await agent.CreateSessionAsync(TestHosts.Token), cancellationToken: TestHosts.Token);
            var run = await keel.Client.StartAsync("support", new AgentTurn { Message = "hello", Session = inline }, cancellationToken: TestHosts.Token);
            Assert.StartsWith("answer 1: ", (await keel.Client.GetResultAsync<AgentTurnResult>(run.RunId, TestHosts.Token)).Text, StringComparison.Ordinal);
        }
    }
}
