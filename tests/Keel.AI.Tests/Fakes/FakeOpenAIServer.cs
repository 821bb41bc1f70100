using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.AI.Tests.Fakes;

/// <summary>
/// A local HTTP server on loopback that speaks OpenAI's chat-completions API (plain and streaming, with tool calls), for
/// the official OpenAI client to talk to, unmodified. A script answers each request; faults can be injected; every request
/// is recorded, with the turn it asks for (1 + the assistant messages it carries).
/// </summary>
public sealed class FakeOpenAIServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<FakeRequest, FakeReply> _script;
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly ConcurrentDictionary<int, int> _answered = new();
    private int _count;
    private long _repeated;

    private FakeOpenAIServer(WebApplication app, Func<FakeRequest, FakeReply> script)
    {
        _app = app;
        _script = script;
    }

    /// <summary>The base address to give the OpenAI client (ends in /v1).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Decides a fault for a request (null for none); it runs before the script.</summary>
    public Func<FakeRequest, FakeFault?>? Faults { get; set; }

    /// <summary>Runs before a request is answered (after faults): a test may hold a request here.</summary>
    public Func<FakeRequest, CancellationToken, Task>? BeforeReply { get; set; }

    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>Requests for a turn that had already been answered in full.</summary>
    public long RepeatedRequests => Interlocked.Read(ref _repeated);

    /// <summary>Turns answered in full, each with the number of times.</summary>
    public IReadOnlyDictionary<int, int> Answered => _answered;

    /// <summary>Total tokens the server reported for the replies it completed.</summary>
    public long TokensReported => Interlocked.Read(ref _tokens);

    private long _tokens;

    public static async Task<FakeOpenAIServer> StartAsync(Func<FakeRequest, FakeReply> script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeOpenAIServer(app, script);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        await app.StartAsync();
        var address = app.Urls.First();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/v1");
        return server;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var body = (await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted))!.AsObject();
        var request = new FakeRequest(Interlocked.Increment(ref _count), body);
        _requests.Enqueue(request);
        if (_answered.ContainsKey(request.Turn))
        {
            Interlocked.Increment(ref _repeated);
        }
        var fault = Faults?.Invoke(request);
        switch (fault?.Kind)
        {
            case FakeFaultKind.RateLimited:
                http.Response.StatusCode = 429;
                if (fault.RetryAfter is { } wait)
                {
                    http.Response.Headers["Retry-After"] = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }
                await http.Response.WriteAsJsonAsync(Error("rate_limit_exceeded", "Rate limit reached"), http.RequestAborted);
                return;
            case FakeFaultKind.ServerError:
                http.Response.StatusCode = 500;
                await http.Response.WriteAsJsonAsync(Error("server_error", "The server had an error"), http.RequestAborted);
                return;
            case FakeFaultKind.Hang:
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                http.Abort();
                return;
        }
        if (BeforeReply is { } before)
        {
            try
            {
                await before(request, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        var reply = _script(request);
        var model = reply.Model ?? request.Model;
        var promptTokens = reply.PromptTokens ?? 10 * request.Messages.Count;
        var completionTokens = reply.CompletionTokens ?? 5;
        if (request.Stream)
        {
            await StreamAsync(http, request, reply, model, promptTokens, completionTokens, cut: fault?.Kind == FakeFaultKind.CutStream);
            return;
        }
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.ToolCalls is { Count: > 0 } ? null : reply.Text };
        if (reply.ToolCalls is { Count: > 0 } calls)
        {
            message["content"] = reply.Text;
            message["tool_calls"] = new JsonArray([.. calls.Select((c, i) => (JsonNode)new JsonObject
            {
                ["id"] = c.Id ?? $"call_{request.Turn}_{i}",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            })]);
        }
        var response = new JsonObject
        {
            ["id"] = $"chatcmpl-{request.Index}",
            ["object"] = "chat.completion",
            ["created"] = 1_764_000_000 + request.Index,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["finish_reason"] = reply.ToolCalls is { Count: > 0 } ? "tool_calls" : "stop",
            }),
            ["usage"] = Usage(promptTokens, completionTokens),
        };
        await http.Response.WriteAsJsonAsync(response, http.RequestAborted);
        Answer(request, promptTokens + completionTokens);
    }

    private async Task StreamAsync(HttpContext http, FakeRequest request, FakeReply reply, string model, int promptTokens, int completionTokens, bool cut)
    {
        http.Response.ContentType = "text/event-stream";
        var id = $"chatcmpl-{request.Index}";
        async Task ChunkAsync(JsonObject delta, string? finish, JsonObject? usage = null)
        {
            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = 1_764_000_000 + request.Index,
                ["model"] = model,
                ["choices"] = usage is null
                    ? new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish })
                    : new JsonArray(),
            };
            if (usage is not null)
            {
                chunk["usage"] = usage;
            }
            await http.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
        await ChunkAsync(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null);
        var text = reply.Text ?? "";
        var pieces = text.Length == 0 ? [] : text.Chunk(Math.Max(1, text.Length / 3)).Select(c => new string(c)).ToArray();
        for (var i = 0; i < pieces.Length; i++)
        {
            await ChunkAsync(new JsonObject { ["content"] = pieces[i] }, null);
            if (cut && i == 0)
            {
                http.Abort(); // the connection drops mid-stream
                return;
            }
        }
        var calls = reply.ToolCalls ?? [];
        for (var i = 0; i < calls.Count; i++)
        {
            await ChunkAsync(new JsonObject
            {
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["index"] = i, ["id"] = calls[i].Id ?? $"call_{request.Turn}_{i}", ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = calls[i].Name, ["arguments"] = calls[i].Arguments },
                }),
            }, null);
        }
        await ChunkAsync(new JsonObject(), calls.Count > 0 ? "tool_calls" : "stop");
        await ChunkAsync(new JsonObject(), null, Usage(promptTokens, completionTokens));
        await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
        Answer(request, promptTokens + completionTokens);
    }

    private void Answer(FakeRequest request, int tokens)
    {
        _answered.AddOrUpdate(request.Turn, 1, (_, n) => n + 1);
        Interlocked.Add(ref _tokens, tokens);
    }

    private static JsonObject Usage(int prompt, int completion) =>
        new() { ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion };

    private static JsonObject Error(string code, string message) =>
        new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = code, ["code"] = code } };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request the server received.</summary>
public sealed class FakeRequest(int index, JsonObject body)
{
    public int Index { get; } = index;

    public JsonObject Body { get; } = body;

    public string Model => Body["model"]?.GetValue<string>() ?? "unknown";

    public bool Stream => Body["stream"]?.GetValue<bool>() ?? false;

    public JsonArray Messages => Body["messages"]!.AsArray();

    /// <summary>1 + the assistant messages the request carries: which answer of the conversation it asks for.</summary>
    public int Turn => 1 + Messages.Count(m => m?["role"]?.GetValue<string>() == "assistant");

    /// <summary>The tool results the request carries, in order.</summary>
    public IReadOnlyList<string> ToolResults => [.. Messages.Where(m => m?["role"]?.GetValue<string>() == "tool").Select(m => ContentText(m!["content"]))];

    public string LastUserText => ContentText(Messages.LastOrDefault(m => m?["role"]?.GetValue<string>() == "user")?["content"]);

    public string AllText => Body.ToJsonString();

    private static string ContentText(JsonNode? content) => content switch
    {
        null => "",
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => content.ToJsonString(),
    };
}

/// <summary>What the script answers.</summary>
public sealed record FakeReply(string? Text = null, IReadOnlyList<FakeToolCall>? ToolCalls = null)
{
    public string? Model { get; init; }

    public int? PromptTokens { get; init; }

    public int? CompletionTokens { get; init; }

    public static FakeReply Call(string name, string arguments) => new(null, [new FakeToolCall(name, arguments)]);
}

public sealed record FakeToolCall(string Name, string Arguments, string? Id = null);

public enum FakeFaultKind
{
    RateLimited,
    ServerError,
    Hang,
    CutStream,
}

public sealed record FakeFault(FakeFaultKind Kind, TimeSpan? RetryAfter = null);
