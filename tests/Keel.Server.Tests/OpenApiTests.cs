using System.Text.Json;

namespace Keel.Server.Tests;

/// <summary>The OpenAPI document <c>keel serve</c> publishes at <c>/openapi/v1.json</c>, read over real HTTP.</summary>
public class OpenApiTests
{
    // Every call of the API, as KeelApi maps it: the document must describe each.
    private static readonly (string Method, string Path)[] Calls =
    [
        ("get", "/api/runs"), ("post", "/api/runs"), ("get", "/api/runs/{runId}"), ("get", "/api/runs/{runId}/journal"),
        ("get", "/api/runs/{runId}/history"), ("get", "/api/runs/{runId}/handoff"), ("get", "/api/runs/{runId}/wait"),
        ("post", "/api/runs/{runId}/cancel"), ("post", "/api/runs/{runId}/pause"), ("post", "/api/runs/{runId}/resume"),
        ("post", "/api/runs/{runId}/unblock"), ("post", "/api/runs/{runId}/retry"), ("post", "/api/runs/{runId}/fork"),
        ("get", "/api/workers"), ("post", "/api/runs/{runId}/priority"), ("post", "/api/runs/{runId}/signals/{name}"),
        ("post", "/api/runs/{runId}/resolve"), ("get", "/api/approvals"), ("post", "/api/runs/{runId}/approvals"),
        ("get", "/api/runs/{runId}/events"), ("get", "/api/events"), ("get", "/api/inbox"), ("get", "/api/counts"), ("get", "/api/me"),
        ("post", "/api/runs/{runId}/approvals/links"), ("post", "/api/approval-links/read"), ("post", "/api/approval-links/decide"),
    ];

    [Fact]
    public async Task TheDocument_DescribesEveryCall_WithWhatItTakesAndAnswers_AsTheApiWritesIt()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register, apiKey: "openapi-test-key-0123456789");
        var (status, document) = await h.GetAsync("openapi/v1.json");
        Assert.Equal(200, status);
        Assert.StartsWith("3.", document.Str("openapi"), StringComparison.Ordinal);

        var paths = document.GetProperty("paths");
        foreach (var (method, path) in Calls)
        {
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method} {path} is not in the document");
            var operation = item.GetProperty(method);
            Assert.False(string.IsNullOrEmpty(operation.Str("summary")), $"{method} {path} has no summary");
            Assert.True(operation.GetProperty("responses").EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{method} {path} says no success");
            Assert.True(operation.GetProperty("responses").TryGetProperty("404", out _), $"{method} {path} says no problem");
        }
        Assert.Equal(Calls.Length, paths.EnumerateObject().Sum(p => p.Value.EnumerateObject().Count(m => m.Name is "get" or "post")));
        Assert.True(paths.GetProperty("/api/events").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/event-stream", out _));

        // Bodies: a start needs one, a pause may come without.
        Assert.True(paths.GetProperty("/api/runs").GetProperty("post").GetProperty("requestBody").GetProperty("required").GetBoolean());
        var pause = paths.GetProperty("/api/runs/{runId}/pause").GetProperty("post").GetProperty("requestBody");
        Assert.False(pause.TryGetProperty("required", out var required) && required.GetBoolean());

        // A run's input and result are any JSON value (the API writes them as values), its status one of the names.
        var run = document.GetProperty("components").GetProperty("schemas").GetProperty("RunInfo").GetProperty("properties");
        Assert.False(run.GetProperty("input").TryGetProperty("type", out _), run.GetProperty("input").ToString());
        Assert.False(run.GetProperty("result").TryGetProperty("type", out _), run.GetProperty("result").ToString());
        var statuses = document.GetProperty("components").GetProperty("schemas").GetProperty("RunStatus").GetProperty("enum").Items().Select(e => e.GetString());
        Assert.Equal(Enum.GetNames<RunStatus>(), statuses);
    }
}
