using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Keel.AI;
using Keel.AI.Tests.Fakes;
using Keel.AI.TestWorker;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.Bench;

/// <summary>
/// W6: one durable agent run of 100 turns through the official OpenAI client behind Microsoft.Extensions.AI (UseKeel),
/// against a chat-completions server on loopback started here: turns 1-99 answer with one tool call, turn 100 with the
/// answer; each tool returns ~1 KB; every request carries the whole conversation. The worker process is SIGKILLed after
/// turn 50 (while the server holds turn 51's request) and restarted. A second phase times 200 durable calls against 200
/// plain calls with the same prompts.
/// </summary>
internal static class W6
{
    private const int Turns = 100;
    private const int KillAfter = 50;

    public static async Task RunAsync(BenchOptions options, BenchTarget target, string dataDir, JsonObject result, JsonObject settings)
    {
        if (target.IsPostgres)
        {
            throw new NotSupportedException("W6 runs on SQLite only for now.");
        }
        var toolLog = Path.Combine(dataDir, "w6-tools.log");
        File.WriteAllText(toolLog, "");
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long restartedAt = 0, firstAfterRestart = 0;
        await using var server = await FakeOpenAIServer.StartAsync(request => request.Turn < Turns
            ? FakeReply.Call("lookup", string.Create(CultureInfo.InvariantCulture, $$"""{"query":"q{{request.Turn}}"}"""))
            : new FakeReply($"done after {request.ToolResults.Count} lookups"));
        server.BeforeReply = async (request, token) =>
        {
            if (Interlocked.Read(ref restartedAt) != 0)
            {
                Interlocked.CompareExchange(ref firstAfterRestart, Stopwatch.GetTimestamp(), 0);
            }
            if (request.Turn == KillAfter + 1 && !holding.Task.IsCompleted)
            {
                holding.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, token); // until the worker dies
            }
        };

        await using (var store = target.CreateStore())
        {
            await store.InitializeAsync();
            var client = KeelClient.Create(store);
            var run = await client.StartAsync("tool-loop", "research the 99 facts", new StartWorkflowOptions { RunId = "w6-agent", AllowUnknownWorkflow = true });
            string[] childArgs = ["w6-worker", .. target.ChildArgs(), "--effects", toolLog, "--endpoint", server.Endpoint.ToString()];
            var first = BenchUtil.StartSelf(childArgs, line => BenchUtil.Log($"  worker1 | {line}"));
            await holding.Task.WaitAsync(TimeSpan.FromMinutes(5));
            BenchUtil.KillHard(first);
            BenchUtil.Log($"w6 SIGKILL worker 1 while turn {KillAfter + 1} was asked; {File.ReadAllLines(toolLog).Length} tool calls logged");
            Interlocked.Exchange(ref restartedAt, Stopwatch.GetTimestamp());
            var second = BenchUtil.StartSelf(childArgs, line => BenchUtil.Log($"  worker2 | {line}"));
            var answer = await client.GetResultAsync<AgentRunResult>(run.RunId).WaitAsync(TimeSpan.FromMinutes(5));
            BenchUtil.KillHard(second);
            BenchUtil.Log($"w6 answer: {answer.Text} ({answer.TotalTokens} tokens)");

            var queries = File.ReadAllLines(toolLog);
            var journal = await client.GetJournalAsync(run.RunId);
            var info = await client.GetRunAsync(run.RunId);
            long stored = Encoding.UTF8.GetByteCount(info!.Input ?? "") + Encoding.UTF8.GetByteCount(info.Result ?? "");
            foreach (var entry in journal)
            {
                stored += Encoding.UTF8.GetByteCount(entry.Name) + Encoding.UTF8.GetByteCount(entry.Payload ?? "");
            }
            // Keel.AI journals model calls, long tool results and sessions by reference: the messages they name count too
            // (each stored once, with its hash), as do the run's links to them.
            long messageBytes = 0, linkBytes = 0;
            var messages = await store.GetRunMessagesAsync(run.RunId);
            foreach (var (hash, body) in messages)
            {
                messageBytes += Encoding.UTF8.GetByteCount(hash) + Encoding.UTF8.GetByteCount(body);
                linkBytes += Encoding.UTF8.GetByteCount(run.RunId) + Encoding.UTF8.GetByteCount(hash);
            }
            var journalBytes = stored;
            stored += messageBytes + linkBytes;
            // The conversation: every distinct message once, as the chat API carries it (the last request holds them all but
            // the final answer).
            var last = server.Requests.Where(r => r.Turn == Turns).Last();
            long conversation = last.Messages.Sum(m => Encoding.UTF8.GetByteCount(m!.ToJsonString()))
                + Encoding.UTF8.GetByteCount(new JsonObject { ["role"] = "assistant", ["content"] = answer.Text }.ToJsonString());
            result["turns"] = server.Answered.Count;
            result["model_requests"] = server.Requests.Count;
            result["repeated_model_requests"] = server.RepeatedRequests;
            result["repeated_tool_calls"] = queries.Length - queries.Distinct(StringComparer.Ordinal).Count();
            result["tool_calls"] = queries.Length;
            result["conversation_bytes"] = conversation;
            result["stored_bytes"] = stored;
            result["journal_bytes"] = journalBytes;
            result["message_bytes"] = messageBytes;
            result["stored_messages"] = messages.Count;
            result["storage_ratio"] = BenchUtil.Round((double)stored / conversation, 2);
            result["resume_ms"] = BenchUtil.Round((firstAfterRestart - restartedAt) * 1000.0 / Stopwatch.Frequency, 0);
            result["total_tokens"] = answer.TotalTokens;
        }

        await MeasureCallOverheadAsync(target.Sibling("calls"), server, options.Repetitions ?? 200, result);
        settings["stored_bytes_note"] = "journal names and payloads, the run's input and result, and the messages the journal names by hash (hash and body, and the run's link to each: run id and hash), as Keel stores them (no table or index overhead)";
        settings["call_phase"] = "sequential calls in one process, interleaved in blocks of 20, after 40 warm-up calls of each kind; plain = the official OpenAI client through Microsoft.Extensions.AI.OpenAI; durable = the same client behind KeelChatClient, called from a workflow (one journaled step, committed before the workflow sees it)";
    }

    private static async Task MeasureCallOverheadAsync(BenchTarget target, FakeOpenAIServer server, int calls, JsonObject result)
    {
        var plain = KeelChatClients.CreateOpenAI(server.Endpoint, "bench", "gpt-bench");
        // The model-call middleware alone (UseKeel() without tools): the function-invoking client UseKeel() also adds costs
        // the same with or without Keel, and on this machine it added 15-30 ms to every call outside any workflow, which
        // would drown the figure this phase is for.
        var durable = new KeelChatClient(KeelChatClients.CreateOpenAI(server.Endpoint, "bench", "gpt-bench"));
        server.BeforeReply = null;
        var durableTimes = new List<double>();
        var plainTimes = new List<double>();
        await using var keel = await KeelHost.StartAsync(k => k
            .UseStore(_ => target.CreateStore())
            .AddWorkflow<int[], int>("w6-calls", async (ctx, range) =>
            {
                for (var i = range[0]; i < range[1]; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await durable.GetResponseAsync(Prompt(i));
                    if (!ctx.IsReplaying && range[2] == 1)
                    {
                        durableTimes.Add(BenchUtil.TicksToUs(Stopwatch.GetTimestamp() - started));
                    }
                }
                return range[1] - range[0];
            }));
        async Task PlainAsync(int from, int to, bool record)
        {
            for (var i = from; i < to; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await plain.GetResponseAsync(Prompt(i));
                if (record)
                {
                    plainTimes.Add(BenchUtil.TicksToUs(Stopwatch.GetTimestamp() - started));
                }
            }
        }
        async Task DurableAsync(int from, int to, bool record)
        {
            var run = await keel.Client.StartAsync("w6-calls", new[] { from, to, record ? 1 : 0 });
            await keel.Client.GetResultAsync<int>(run.RunId);
        }
        await PlainAsync(0, 40, false);
        await DurableAsync(0, 40, false);
        for (var block = 0; block < calls; block += 20)
        {
            await PlainAsync(block, block + 20, true);
            await DurableAsync(block, block + 20, true);
        }
        var plainP50 = BenchUtil.Median(plainTimes);
        var durableP50 = BenchUtil.Median(durableTimes);
        result["plain_call_us_p50"] = BenchUtil.Round(plainP50);
        result["durable_call_us_p50"] = BenchUtil.Round(durableP50);
        result["call_overhead_us_p50"] = BenchUtil.Round(durableP50 - plainP50);
        result["calls_timed"] = durableTimes.Count;
    }

    private static List<ChatMessage> Prompt(int i) =>
        [new(ChatRole.System, "You are a research agent."), new(ChatRole.User, string.Create(CultureInfo.InvariantCulture, $"question {i}: what is fact {i}?"))];

    public static async Task<int> WorkerAsync(BenchOptions options)
    {
        var target = BenchTarget.FromChildOptions(options);
        var toolLog = options.Effects ?? throw new ArgumentException("--effects is required");
        var endpoint = options.Endpoint ?? throw new ArgumentException("--endpoint is required");
        await using var keel = await KeelHost.StartAsync(k => k
            .UseStore(_ => target.CreateStore())
            .AddWorkflow<ToolLoopAgent>(), services => services
            .AddSingleton(new ToolLog(toolLog))
            .AddSingleton(new ChatClientBuilder(KeelChatClients.CreateOpenAI(new Uri(endpoint), "bench", "gpt-bench"))
                .UseKeel(configureFunctionInvocation: f => f.MaximumIterationsPerRequest = 1000).Build()));
        await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System); // until killed
        return 0;
    }
}
