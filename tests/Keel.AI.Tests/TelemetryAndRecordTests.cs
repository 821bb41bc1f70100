using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Keel.AI.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Keel.AI.Tests;

public class TelemetryAndRecordTests
{
    [Fact]
    public async Task GenAIMetrics_FromUseOpenTelemetryAfterUseKeel_CountLiveCallsOnly_NotReplays()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(r => new FakeReply($"answer {r.Turn}"));
        var source = $"keel-ai-test-{Guid.NewGuid():N}";
        var chat = new ChatClientBuilder(TestHosts.OpenAI(server)).UseKeel().UseOpenTelemetry(sourceName: source).Build();
        long tokens = 0;
        var operations = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == source && instrument.Name is "gen_ai.client.token.usage" or "gen_ai.client.operation.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Interlocked.Add(ref tokens, value));
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Interlocked.Add(ref tokens, value));
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => Interlocked.Increment(ref operations));
        listener.Start();
        void Workflows(KeelBuilder k) => k.AddWorkflow<int, string>("metered", async (ctx, _) =>
        {
            var first = await chat.GetResponseAsync("one");
            var second = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "one"), .. first.Messages, new ChatMessage(ChatRole.User, "two")]);
            await ctx.WaitForSignalAsync<string>("go");
            return second.Text;
        });
        string runId;
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            runId = (await keel.Client.StartAsync("metered", 0, cancellationToken: TestHosts.Token)).RunId;
            await TestHosts.WaitForStatusAsync(keel.Client, runId, RunStatus.Waiting);
        }
        await using (var keel = await TestHosts.StartAsync(dir.Db, Workflows))
        {
            await keel.Client.SignalAsync(runId, "go", "now", TestHosts.Token);
            Assert.Equal("answer 2", await keel.Client.GetResultAsync<string>(runId, TestHosts.Token));
        }
        listener.RecordObservableInstruments();
        Assert.Equal(server.TokensReported, Interlocked.Read(ref tokens));
        Assert.Equal(2, operations);
    }

    [Fact]
    public void AJournaledResponse_RoundTripsPolymorphicContent()
    {
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant,
        [
            new TextContent("checking"),
            new FunctionCallContent("c1", "lookup", new Dictionary<string, object?> { ["q"] = "x" }),
            new DataContent(new byte[] { 1, 2, 3 }, "application/octet-stream"),
            new UsageContent(new UsageDetails { InputTokenCount = 3, OutputTokenCount = 4, TotalTokenCount = 7 }),
        ]))
        {
            ModelId = "m", ResponseId = "r1", FinishReason = ChatFinishReason.ToolCalls,
            Usage = new UsageDetails { InputTokenCount = 3, OutputTokenCount = 4, TotalTokenCount = 7 },
        };
        var record = ChatRecord.WriteInline(response);
        var json = JsonSerializer.Serialize(record, AIJson.Default.JsonElement);
        var back = ChatRecord.ReadResponse(JsonDocument.Parse(json).RootElement);
        Assert.Equal("r1", back.ResponseId);
        Assert.Equal(ChatFinishReason.ToolCalls, back.FinishReason);
        var contents = back.Messages.Single().Contents;
        Assert.IsType<TextContent>(contents[0]);
        Assert.Equal("lookup", Assert.IsType<FunctionCallContent>(contents[1]).Name);
        Assert.Equal(new byte[] { 1, 2, 3 }, Assert.IsType<DataContent>(contents[2]).Data.ToArray());
        Assert.IsType<UsageContent>(contents[3]);
        Assert.Equal(new ModelUsage("m", 3, 4, 7), ChatRecord.ReadUsage(record));
    }

    [Fact]
    public void PromptHashes_DependOnTheMessagesAndOptions_AndNothingElse()
    {
        ChatMessage[] a = [new(ChatRole.User, "hello")];
        Assert.Equal(ChatRecord.PromptHash(a, null), ChatRecord.PromptHash([new(ChatRole.User, "hello")], null));
        Assert.NotEqual(ChatRecord.PromptHash(a, null), ChatRecord.PromptHash([new(ChatRole.User, "hello!")], null));
        Assert.NotEqual(ChatRecord.PromptHash(a, null), ChatRecord.PromptHash(a, new ChatOptions { ModelId = "other" }));
        Assert.Equal(12, ChatRecord.PromptHash(a, null).Length);
        // Ids and times the provider never sees do not count.
        Assert.Equal(ChatRecord.PromptHash(a, null), ChatRecord.PromptHash([new(ChatRole.User, "hello") { MessageId = Guid.NewGuid().ToString("N"), CreatedAt = TimeProvider.System.GetUtcNow() }], null));
    }

    [Theory]
    [InlineData("retry-after-ms", "1500", 1500)]
    [InlineData("Retry-After", "2", 2000)]
    public void A429_CarriesTheProvidersRetryAfter(string header, string value, int expectedMs)
    {
        var response = new FakeResponse(429, header, value);
        var error = ModelErrors.Classify(new ClientResultException(response), hasFallback: false);
        var retryable = Assert.IsType<RetryableStepException>(error);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), retryable.RetryAfter);
    }

    [Fact]
    public void ARefusedRequest_IsTerminal_UnlessAFallbackModelMayTakeIt()
    {
        Assert.IsType<TerminalStepException>(ModelErrors.Classify(new ClientResultException(new FakeResponse(401, "x", "y")), hasFallback: false));
        Assert.Null(ModelErrors.Classify(new ClientResultException(new FakeResponse(404, "x", "y")), hasFallback: true));
        Assert.Null(ModelErrors.Classify(new ClientResultException(new FakeResponse(503, "x", "y")), hasFallback: false));
    }

    private sealed class FakeResponse(int status, string header, string value) : PipelineResponse
    {
        private readonly FakeHeaders _headers = new(header, value);

        public override int Status => status;

        public override string ReasonPhrase => "fake";

        public override Stream? ContentStream { get; set; }

        public override BinaryData Content => BinaryData.FromString("{}");

        protected override PipelineResponseHeaders HeadersCore => _headers;

        public override BinaryData BufferContent(CancellationToken cancellationToken = default) => Content;

        public override ValueTask<BinaryData> BufferContentAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Content);

        public override void Dispose()
        {
        }
    }

    private sealed class FakeHeaders(string name, string value) : PipelineResponseHeaders
    {
        public override bool TryGetValue(string headerName, out string? v)
        {
            v = string.Equals(headerName, name, StringComparison.OrdinalIgnoreCase) ? value : null;
            return v is not null;
        }

        public override bool TryGetValues(string headerName, out IEnumerable<string>? values)
        {
            values = TryGetValue(headerName, out var v) ? [v!] : null;
            return values is not null;
        }

        public override IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            yield return new(name, value);
        }
    }
}
