using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Keel.Server.Tests;

/// <summary>The live streams (server-sent events) over a real Kestrel server, read as any HTTP client would.</summary>
public sealed class LiveApiTests
{
    private sealed record Event(string Type, string? Id, JsonElement Data);

    /// <summary>Reads a server-sent event stream into a channel until the test ends.</summary>
    private static async Task<ChannelReader<Event>> ListenAsync(ServerHarness h, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await h.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ServerHarness.Token);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Channel.CreateUnbounded<Event>();
        _ = Task.Run(async () =>
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ServerHarness.Token));
            string? type = null, id = null, data = null;
            try
            {
                while (await reader.ReadLineAsync(ServerHarness.Token) is { } line)
                {
                    if (line.Length == 0)
                    {
                        if (data is not null)
                        {
                            events.Writer.TryWrite(new Event(type ?? "message", id, JsonDocument.Parse(data).RootElement.Clone()));
                        }
                        type = id = data = null;
                    }
                    else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                    else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                    else if (line.StartsWith("data: ", StringComparison.Ordinal)) data += line[6..];
                }
            }
            catch (OperationCanceledException)
            {
                // the test ended
            }
            finally
            {
                events.Writer.TryComplete();
                response.Dispose();
            }
        }, ServerHarness.Token);
        return events.Reader;
    }

    private static async Task<Event> NextAsync(ChannelReader<Event> events, Func<Event, bool> wanted, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ServerHarness.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                var next = await events.ReadAsync(timeout.Token);
                if (wanted(next))
                {
                    return next;
                }
            }
        }
        catch (OperationCanceledException) when (!ServerHarness.Token.IsCancellationRequested)
        {
            Assert.Fail($"no event: {what}");
            throw;
        }
    }

    private static void AroundASignal(KeelBuilder k) => k.AddWorkflow<int, string>("around", async (ctx, _) =>
    {
        await ctx.StepAsync("first", _ => Task.FromResult(1));
        var go = await ctx.WaitForSignalAsync<int>("go");
        return await ctx.StepAsync("second", _ => Task.FromResult($"went {go}"));
    });

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task ARunStream_SendsItsJournal_ThenEachNewEntry_AndResumesFromTheLastEventId(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, k => { TestWorkflows.Register(k); AroundASignal(k); });
        await h.PostJsonAsync("api/runs", new { workflow = "around", input = 0, runId = "around-1" });
        await h.EventuallyAsync("api/runs/around-1", r => r.Str("status") == "Waiting", "the run waits for go");
        var before = (await h.GetAsync("api/runs/around-1/journal")).Body.Items();

        var events = await ListenAsync(h, "api/runs/around-1/events");
        var first = await NextAsync(events, e => e.Type == "entries", "the journal so far");
        Assert.Equal(before.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Id);
        Assert.Equal(before.Select(e => e.Str("kind")), first.Data.Items().Select(e => e.Str("kind")));
        Assert.Equal("Waiting", (await NextAsync(events, e => e.Type == "run", "the run")).Data.Str("status"));

        // A signal sent now: its entries arrive as written by the worker (another client, as another process would be).
        await h.PostAsync("api/runs/around-1/signals/go", "5");
        var ended = await NextAsync(events, e => e.Type == "run" && e.Data.Str("status") == "Completed", "the run completed");
        var after = (await h.GetAsync("api/runs/around-1/journal")).Body.Items();
        Assert.Equal(after.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ended.Id);
        Assert.Equal("\"went 5\"", ended.Data.Raw("result"));

        // Reconnecting with the id of an earlier event sends exactly the entries after it, payloads as JSON values.
        var resumed = await ListenAsync(h, "api/runs/around-1/events", lastEventId: before.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var rest = await NextAsync(resumed, e => e.Type == "entries", "the entries after the last event");
        Assert.Equal(after.Skip(before.Length).Select(e => e.GetRawText()), rest.Data.Items().Select(e => e.GetRawText()));
        Assert.Contains(rest.Data.Items(), e => e.Str("name") == "second" && e.Raw("payload") == "\"went 5\"");
    }

    [Fact]
    public async Task ARunStream_RefusesAnUnknownRunAndABadEventId_BeforeItStarts()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);
        var (missing, problem) = await h.GetAsync("api/runs/nope/events");
        Assert.Equal(404, missing);
        Assert.Contains("No run with id 'nope'", problem.Str("detail"), StringComparison.Ordinal);
        await h.PostJsonAsync("api/runs", new { workflow = "greet", input = "x", runId = "g" });
        var (bad, why) = await h.SendAsync(HttpMethod.Get, "api/runs/g/events", configure: m => m.Headers.Add("Last-Event-ID", "abc"));
        Assert.Equal(400, bad);
        Assert.Contains("Last-Event-ID", why.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task TheListStream_SendsRunsAsTheyStartAndChange_AndTheInboxCounts(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        var events = await ListenAsync(h, "api/events?workflow=refund");
        var counts = await NextAsync(events, e => e.Type == "counts", "the counts");
        Assert.Equal(0, counts.Data.GetProperty("approvals").GetInt32());

        await h.PostJsonAsync("api/runs", new { workflow = "refund", input = new Refund("ada", 40), runId = "refund-ada" });
        await h.PostJsonAsync("api/runs", new { workflow = "greet", input = "bo", runId = "greet-bo" }); // not in this list
        var waiting = await NextAsync(events, e => e.Type == "run" && e.Data.Str("status") == "Waiting", "the new run, waiting");
        Assert.Equal("refund-ada", waiting.Data.Str("runId"));
        Assert.Equal(1, (await NextAsync(events, e => e.Type == "counts", "the approval counted")).Data.GetProperty("approvals").GetInt32());

        await h.PostAsync("api/runs/refund-ada/approvals", """{"approved":false,"by":"ops"}""");
        Assert.Equal("refund-ada", (await NextAsync(events, e => e.Type == "run" && e.Data.Str("status") == "Completed", "the run ended")).Data.Str("runId"));

        // The inbox and who-is-calling, read the same way the page reads them.
        var inbox = (await h.GetAsync("api/inbox")).Body;
        Assert.Empty(inbox.GetProperty("approvals").Items());
        Assert.Equal(JsonValueKind.Object, inbox.GetProperty("counts").ValueKind);
        var me = (await h.GetAsync("api/me")).Body;
        Assert.False(me.GetProperty("keysRequired").GetBoolean());
        Assert.Equal("Operator", me.Str("role"));
        Assert.True((await h.GetAsync("api/workers")).Body.Items().Single().GetProperty("alive").GetBoolean());
    }

    [Fact]
    public void AnApprovalLink_ExpiresAtItsTime_AndIsSignedWithTheConfiguredSecret()
    {
        var approval = new PendingApproval { RunId = "r1", WorkflowName = "refund", Sequence = 3, Name = "refund", Title = "t", ArgumentsJson = "{}", RequestedAt = DateTimeOffset.UnixEpoch };
        var links = new ApprovalLinks(new KeelApprovalLinkOptions { Secret = new string('s', 32) });
        var now = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        var (token, expires) = links.Make(approval, "dana", "ana", TimeSpan.FromHours(1), now);
        Assert.Equal(now.AddHours(1), expires);
        var claims = links.Read(token, now.AddMinutes(59));
        Assert.Equal(("r1", 3, "dana", "ana"), (claims.RunId, claims.Sequence, claims.Reviewer, claims.MadeBy));
        Assert.Equal(410, Assert.Throws<ApiRequestException>(() => links.Read(token, now.AddHours(1))).StatusCode);
        // Another server with the same secret reads it; one with another secret refuses it.
        Assert.Equal("dana", new ApprovalLinks(new KeelApprovalLinkOptions { Secret = new string('s', 32) }).Read(token, now).Reviewer);
        Assert.Equal(403, Assert.Throws<ApiRequestException>(() => new ApprovalLinks(new KeelApprovalLinkOptions { Secret = new string('x', 32) }).Read(token, now)).StatusCode);
        Assert.Equal(400, Assert.Throws<ApiRequestException>(() => links.Make(approval, "dana", null, TimeSpan.FromDays(8), now)).StatusCode);
        Assert.Throws<ArgumentException>(() => new ApprovalLinks(new KeelApprovalLinkOptions { Secret = "short" }));
    }

    [Fact]
    public void ServerOptions_NeverPrintTheirSecrets()
    {
        var options = new KeelServerOptions { ApiKey = "shared-secret-0123456789", ApprovalLinkSecret = new string('z', 40),
            ApiKeys = [new KeelApiKey("ana", KeelApiRole.Approver, "ana-secret-0123456789")] };
        var text = options.ToString();
        Assert.DoesNotContain("secret-0123456789", text, StringComparison.Ordinal);
        Assert.DoesNotContain("zzzz", text, StringComparison.Ordinal);
        Assert.Contains("ApiKeys = 2", text, StringComparison.Ordinal);
    }
}
