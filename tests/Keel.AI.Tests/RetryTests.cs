using Keel.AI.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Keel.AI.Tests;

public class RetryTests
{
    private static readonly RetryPolicy Quick = new() { MaxAttempts = 4, InitialDelay = TimeSpan.FromMilliseconds(10), AttemptTimeout = TimeSpan.FromSeconds(30) };

    private static async Task<(string Result, IReadOnlyList<JournalEntry> Journal)> RunOnceAsync(FakeOpenAIServer server, KeelChatOptions options, bool stream = false)
    {
        using var dir = new TempDir();
        var chat = TestHosts.Durable(server, options);
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, string>("retry", async (ctx, _) =>
        {
            if (!stream)
            {
                var response = await chat.GetResponseAsync("hello");
                return $"{response.Text} from {response.ModelId}";
            }
            var text = "";
            await foreach (var update in chat.GetStreamingResponseAsync("hello"))
            {
                text += update.Text;
            }
            return text;
        }));
        var run = await keel.Client.StartAsync("retry", 0, cancellationToken: TestHosts.Token);
        var result = await keel.Client.GetResultAsync<string>(run.RunId, TestHosts.Token);
        return (result, await keel.Client.GetJournalAsync(run.RunId, TestHosts.Token));
    }

    [Fact]
    public async Task A429_IsRetried_AfterTheProvidersRetryAfter()
    {
        await using var server = await FakeOpenAIServer.StartAsync(_ => new FakeReply("ok"));
        server.Faults = r => r.Index == 1 ? new FakeFault(FakeFaultKind.RateLimited, TimeSpan.FromSeconds(1)) : null;
        var (result, journal) = await RunOnceAsync(server, new KeelChatOptions { Retry = Quick with { InitialDelay = TimeSpan.FromMinutes(5) } });
        Assert.Equal("ok from gpt-test", result);
        Assert.Equal(2, server.Requests.Count);
        var failed = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepAttemptFailed);
        Assert.Contains("429", failed.Error!.Message, StringComparison.Ordinal);
        // The durable due time is the provider's Retry-After (1 s), not the policy's 5 minutes.
        Assert.Equal(TimeSpan.FromSeconds(1), failed.RetryAt!.Value - failed.RecordedAt);
    }

    [Fact]
    public async Task A500_IsRetriedByPolicy()
    {
        await using var server = await FakeOpenAIServer.StartAsync(_ => new FakeReply("ok"));
        server.Faults = r => r.Index <= 2 ? new FakeFault(FakeFaultKind.ServerError) : null;
        var (result, journal) = await RunOnceAsync(server, new KeelChatOptions { Retry = Quick });
        Assert.Equal("ok from gpt-test", result);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(2, journal.Count(e => e.Kind == JournalEntryKind.StepAttemptFailed));
    }

    [Fact]
    public async Task ARequestThatHangs_TimesOut_AndIsAskedAgain()
    {
        await using var server = await FakeOpenAIServer.StartAsync(_ => new FakeReply("ok"));
        server.Faults = r => r.Index == 1 ? new FakeFault(FakeFaultKind.Hang) : null;
        var (result, journal) = await RunOnceAsync(server, new KeelChatOptions { Retry = Quick with { AttemptTimeout = TimeSpan.FromMilliseconds(500) } });
        Assert.Equal("ok from gpt-test", result);
        Assert.Equal(2, server.Requests.Count);
        var failed = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepAttemptFailed);
        Assert.Contains("timed out", failed.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStreamCutMidway_IsAskedAgain_AndTheWorkflowSeesOnlyTheCompleteAttempt()
    {
        await using var server = await FakeOpenAIServer.StartAsync(_ => new FakeReply("one two three four five six"));
        server.Faults = r => r.Index == 1 ? new FakeFault(FakeFaultKind.CutStream) : null;
        var (result, journal) = await RunOnceAsync(server, new KeelChatOptions { Retry = Quick }, stream: true);
        Assert.Equal("one two three four five six", result);
        Assert.Equal(2, server.Requests.Count);
        Assert.Single(journal, e => e.Kind == JournalEntryKind.StepAttemptFailed);
    }

    [Fact]
    public async Task WhenThePrimaryKeepsFailing_TheFallbackModelAnswers_AndTheJournalSaysWhich()
    {
        await using var server = await FakeOpenAIServer.StartAsync(r => new FakeReply($"answered by {r.Model}"));
        server.Faults = r => r.Model == "gpt-test" ? new FakeFault(FakeFaultKind.ServerError) : null;
        var (result, journal) = await RunOnceAsync(server, new KeelChatOptions { Retry = Quick, FallbackModels = ["gpt-backup"], AttemptsPerModel = 2 });
        Assert.Equal("answered by gpt-backup from gpt-backup", result);
        Assert.Equal(["gpt-test", "gpt-test", "gpt-backup"], server.Requests.Select(r => r.Model));
        var completed = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepCompleted && e.Name.StartsWith("chat ", StringComparison.Ordinal));
        Assert.StartsWith("{\"model\":\"gpt-backup\"", completed.Payload, StringComparison.Ordinal);
    }

    public sealed record Verdict(string Label, int Score);

    [Fact]
    public async Task StructuredOutput_ThatDoesNotParse_IsAskedAgain_WithTheErrorInThePrompt()
    {
        using var dir = new TempDir();
        await using var server = await FakeOpenAIServer.StartAsync(r => r.Index switch
        {
            1 => new FakeReply("Sure! The label is spam."),
            2 => new FakeReply("""{"label":"spam","score":42}"""),
            _ => new FakeReply("""{"label":"spam","score":7}"""),
        });
        var chat = TestHosts.OpenAI(server);
        await using var keel = await TestHosts.StartAsync(dir.Db, k => k.AddWorkflow<int, string>("structured", async (ctx, _) =>
        {
            var verdict = await ctx.ChatAsync<Verdict>(chat, [new ChatMessage(ChatRole.User, "classify: win a prize")],
                validate: v => v.Score is < 0 or > 10 ? $"score {v.Score} is outside 0..10." : null,
                settings: new KeelChatOptions { Retry = Quick });
            return $"{verdict.Label} {verdict.Score}";
        }));
        var run = await keel.Client.StartAsync("structured", 0, cancellationToken: TestHosts.Token);
        Assert.Equal("spam 7", await keel.Client.GetResultAsync<string>(run.RunId, TestHosts.Token));
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("not valid JSON", server.Requests[1].LastUserText, StringComparison.Ordinal);
        Assert.Contains("score 42 is outside 0..10", server.Requests[2].LastUserText, StringComparison.Ordinal);
        Assert.Contains("json_schema", server.Requests[0].AllText, StringComparison.Ordinal);
    }
}
