using System.Net.Http.Headers;
using System.Text;

namespace Keel.Server.Tests;

/// <summary>Every endpoint that reads a JSON body takes it only when it is sent as JSON (RFC 9457 problem 415 otherwise).</summary>
public class ContentTypeTests
{
    /// <summary>Each endpoint that takes a JSON body, with a body it would accept as JSON.</summary>
    public static TheoryData<string, string> JsonEndpoints() => new()
    {
        { "api/runs", """{"workflow":"greet","input":"ada","runId":"sent-as-text"}""" },
        { "api/runs/waiting/cancel", """{"reason":"why"}""" },
        { "api/runs/waiting/priority", """{"priority":5}""" },
        { "api/runs/waiting/signals/go", "7" },
        { "api/runs/waiting/approvals", """{"approved":true}""" },
        { "api/runs/waiting/resolve", """{"action":"retry"}""" },
    };

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task JsonBody_SentAsPlainTextFormOrWithoutContentType_Is415_AndChangesNothing(string path, string body)
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);
        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"waiting"}""");
        await h.EventuallyAsync("api/runs/waiting", r => r.Str("status") == "Waiting", "the run waits for its signal");

        foreach (var contentType in new[] { "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", null })
        {
            var (status, problem) = await h.SendAsync(HttpMethod.Post, path, configure: r => r.Content = Body(body, contentType));
            Assert.True(status == 415, $"{path} as {contentType ?? "(none)"} answered {status}: {problem}");
            Assert.Equal(415, problem.GetProperty("status").GetInt32());
            Assert.Equal("UnsupportedMediaType", problem.Str("error"));
            Assert.Contains("Content-Type: application/json", problem.Str("detail"), StringComparison.Ordinal);
            Assert.Contains(contentType is null ? "without a Content-Type" : $"'{contentType}'", problem.Str("detail"), StringComparison.Ordinal);
        }

        var (_, all) = await h.GetAsync("api/runs");
        var run = Assert.Single(all.Runs());
        Assert.Equal("waiting", run.Str("runId"));
        Assert.Equal("Waiting", run.Str("status"));
        Assert.Equal(0, run.GetProperty("priority").GetInt32());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; charset=UTF-8")]
    [InlineData("application/vnd.keel+json")]
    [InlineData("application/problem+json; charset=utf-8")]
    public async Task JsonBody_SentAsJson_IsAccepted_OnStartAndSignal(string contentType)
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);

        var (started, _) = await h.SendAsync(HttpMethod.Post, "api/runs",
            configure: r => r.Content = Body("""{"workflow":"wait-for-go","input":"x","runId":"w-1"}""", contentType));
        var (signalled, _) = await h.SendAsync(HttpMethod.Post, "api/runs/w-1/signals/go", configure: r => r.Content = Body("42", contentType));

        Assert.Equal(201, started);
        Assert.Equal(202, signalled);
        Assert.Equal("42", (await h.GetAsync("api/runs/w-1/wait?timeout=20")).Body.Raw("result"));
    }

    [Fact]
    public async Task EmptyBody_NeedsNoContentType_WhereTheBodyIsOptional()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);
        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"w-1"}""");
        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"w-2"}""");

        var (signalled, _) = await h.SendAsync(HttpMethod.Post, "api/runs/w-1/signals/other", configure: r => r.Content = Body("", "text/plain"));
        var (cancelled, run) = await h.PostAsync("api/runs/w-2/cancel");

        Assert.Equal(202, signalled);
        Assert.Equal(202, cancelled);
        Assert.Equal("w-2", run.Str("runId"));
    }

    private static ByteArrayContent Body(string text, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        return content;
    }
}
