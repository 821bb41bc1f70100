using System.Collections.Concurrent;
using System.Text.Json;

namespace Keel.Server.Tests;

/// <summary>The HTTP API over real HTTP (Kestrel on loopback), with workers on the same store, on SQLite and PostgreSQL.</summary>
public class ApiTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Start_IsIdempotent_ThenWaitGetJournalAndList_TellWhatRan(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);

        var (status, started) = await h.PostAsync("api/runs", """{"workflow":"greet","input":"ada","runId":"greet-ada","priority":3}""");
        Assert.Equal(201, status);
        Assert.True(started.GetProperty("created").GetBoolean());
        Assert.Equal("greet-ada", started.Str("runId"));
        var (again, existing) = await h.PostAsync("api/runs", """{"workflow":"greet","input":"ada","runId":"greet-ada"}""");
        Assert.Equal(200, again);
        Assert.False(existing.GetProperty("created").GetBoolean());

        var (waited, run) = await h.GetAsync("api/runs/greet-ada/wait?timeout=20");
        Assert.Equal(200, waited);
        Assert.Equal("Completed", run.Str("status"));
        Assert.Equal("\"hello ada\"", run.Raw("result"));
        Assert.Equal(3, run.GetProperty("priority").GetInt32());

        var (_, journal) = await h.GetAsync("api/runs/greet-ada/journal");
        Assert.Equal(["RunClaimed", "StepCompleted", "RunCompleted"], journal.Items().Select(e => e.Str("kind")));
        Assert.Equal("greet", journal.Items()[1].Str("name"));
        var (_, history) = await h.GetAsync("api/runs/greet-ada/history");
        var step = history.GetProperty("operations").Items().Single();
        Assert.Equal(("greet", "Step", "Completed", "hello ada"), (step.Str("name"), step.Str("kind"), step.Str("state"), step.Str("result")));
        Assert.Equal(["Claimed", "Completed"], history.GetProperty("events").Items().Select(e => e.Str("kind")));
        Assert.Equal(journal.Items()[0].Str("name"), history.GetProperty("events").Items()[0].GetProperty("worker").Str("id"));
        Assert.Equal(3, history.GetProperty("summary").GetProperty("entries").GetInt32());
        Assert.Empty(history.GetProperty("next").Items());

        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"waiting-1"}""");
        var (_, completed) = await h.GetAsync("api/runs?status=Completed&workflow=greet");
        Assert.Equal(["greet-ada"], completed.Runs().Select(r => r.Str("runId")));
        var (_, notFinished) = await h.GetAsync("api/runs?status=Pending,Running,Waiting");
        Assert.Equal(["waiting-1"], notFinished.Runs().Select(r => r.Str("runId")));
        var (_, paged) = await h.GetAsync("api/runs?limit=1");
        Assert.Single(paged.Runs());
        var cursor = paged.Str("nextCursor");
        var (_, next) = await h.GetAsync($"api/runs?limit=1&cursor={Uri.EscapeDataString(cursor)}");
        Assert.NotEqual(paged.Runs()[0].Str("runId"), next.Runs()[0].Str("runId"));
        var (_, future) = await h.GetAsync("api/runs?createdAfter=2999-01-01T00:00:00Z");
        Assert.Empty(future.Runs());
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Approval_ListedAndDecidedWithEditedArguments_ThenSignalsReachAWaitingRun(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        await h.PostJsonAsync("api/runs", new { workflow = "refund", input = new Refund("ada", 40), runId = "refund-1" });

        var pending = await h.EventuallyAsync("api/approvals", a => a.GetArrayLength() == 1, "the approval is pending");
        var approval = pending.Items()[0];
        Assert.Equal("refund-1", approval.Str("runId"));
        Assert.Equal("Refund 40 EUR to ada", approval.Str("title"));
        Assert.Equal("pay-refund", approval.Str("action"));
        Assert.Equal(40, approval.GetProperty("arguments").GetProperty("amount").GetInt32());

        var (decided, answer) = await h.PostAsync("api/runs/refund-1/approvals",
            """{"approved":true,"by":"alice","comment":"partial refund agreed","arguments":{"customer":"ada","amount":25}}""");
        Assert.Equal(202, decided);
        Assert.Equal("refund", answer.GetProperty("approval").Str("name"));
        var (_, run) = await h.GetAsync("api/runs/refund-1/wait?timeout=20");
        Assert.Equal("\"paid 25 to ada\"", run.Raw("result"));
        var (_, journal) = await h.GetAsync("api/runs/refund-1/journal");
        var decision = journal.Items().Single(e => e.Str("kind") == "ApprovalDecided");
        Assert.Contains("\"by\":\"alice\"", decision.Raw("payload"), StringComparison.Ordinal);
        Assert.Contains("partial refund agreed", decision.Raw("payload"), StringComparison.Ordinal);
        var (_, none) = await h.GetAsync("api/approvals?runId=refund-1");
        Assert.Equal(0, none.GetArrayLength());

        // A second decision is refused: nothing waits any more.
        var (again, refused) = await h.PostAsync("api/runs/refund-1/approvals", """{"approved":false}""");
        Assert.Equal(409, again);
        Assert.Contains("refund-1", refused.Str("detail"), StringComparison.Ordinal);

        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"go-1"}""");
        var waiting = await h.EventuallyAsync("api/runs/go-1", r => r.Str("status") == "Waiting", "the run waits for its signal");
        Assert.Equal("waiting for go", waiting.GetProperty("customStatus").Str("text"));
        var (sent, _) = await h.PostAsync("api/runs/go-1/signals/go", "7");
        Assert.Equal(202, sent);
        var (_, done) = await h.GetAsync("api/runs/go-1/wait?timeout=20");
        Assert.Equal("7", done.Raw("result"));

        var (late, problem) = await h.PostAsync("api/runs/go-1/signals/go", "8");
        Assert.Equal(409, late);
        Assert.Equal("RunFinished", problem.Str("error"));
        Assert.Contains("Completed", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task PauseResumePriorityAndCancel_ChangeTheRun_AndAFinishedRunRefusesThem(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"op-1"}""");
        await h.EventuallyAsync("api/runs/op-1", r => r.Str("status") == "Waiting", "the run waits");

        var (paused, _) = await h.PostAsync("api/runs/op-1/pause");
        Assert.True(paused is 200 or 202, $"pause answered {paused}");
        await h.EventuallyAsync("api/runs/op-1", r => r.Str("status") == "Paused", "the run is paused");
        // A paused run keeps its signal and does not act on it until resumed.
        await h.PostAsync("api/runs/op-1/signals/go", "1");
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, ServerHarness.Token);
        Assert.Equal("Paused", (await h.GetAsync("api/runs/op-1")).Body.Str("status"));
        var (resumed, _) = await h.PostAsync("api/runs/op-1/resume");
        Assert.Equal(200, resumed);
        Assert.Equal("1", (await h.GetAsync("api/runs/op-1/wait?timeout=20")).Body.Raw("result"));

        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"op-2"}""");
        var (prioritized, withPriority) = await h.PostAsync("api/runs/op-2/priority", """{"priority":9}""");
        Assert.Equal(200, prioritized);
        Assert.Equal(9, withPriority.GetProperty("priority").GetInt32());
        var (cancelled, _) = await h.PostAsync("api/runs/op-2/cancel", """{"reason":"customer withdrew"}""");
        Assert.Equal(202, cancelled);
        var (_, ended) = await h.GetAsync("api/runs/op-2/wait?timeout=20");
        Assert.Equal("Cancelled", ended.Str("status"));

        foreach (var call in new[] { "cancel", "pause", "resume" })
        {
            var (status, problem) = await h.PostAsync($"api/runs/op-2/{call}");
            Assert.Equal(409, status);
            Assert.Contains("Cancelled", problem.Str("detail"), StringComparison.Ordinal);
        }
        var (finished, why) = await h.PostAsync("api/runs/op-1/priority", """{"priority":1}""");
        Assert.Equal(409, finished);
        Assert.Contains("op-1", why.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task UnknownOutcome_IsResolvedThroughTheApi_WithoutRunningTheStepAgain(StoreKind kind)
    {
        var executions = new ConcurrentDictionary<string, int>();
        await using var h = await ServerHarness.StartAsync(kind, k => TestWorkflows.RegisterCharge(k, executions, hangFirst: true));
        await h.PostAsync("api/runs", """{"workflow":"charge","input":30,"runId":"charge-1"}""");
        await h.EventuallyAsync("api/runs/charge-1/journal", j => j.Items().Any(e => e.Str("kind") == "StepStarted"), "the charge started");
        await h.StopWorkerAsync(h.Worker); // the body is cut off after its effect may have happened
        await h.StartWorkerAsync(k => TestWorkflows.RegisterCharge(k, executions, hangFirst: false));
        var run = await h.EventuallyAsync("api/runs/charge-1", r => r.Str("status") == "NeedsAttention", "the run needs a decision");
        Assert.Contains("charge-card", run.Str("statusReason"), StringComparison.Ordinal);

        // The history says which step waits and why, and which calls decide it; a call refused for the run's state says so too.
        var (_, history) = await h.GetAsync("api/runs/charge-1/history");
        Assert.Equal("NeedsAttention", history.GetProperty("run").Str("status"));
        Assert.Equal("charge-card", history.GetProperty("attention").Str("step"));
        Assert.Equal(1, history.GetProperty("attention").GetProperty("number").GetInt32());
        var step = history.GetProperty("operations").Items().Single();
        Assert.Equal(("Step", "NeedsAttention"), (step.Str("kind"), step.Str("state")));
        Assert.Equal("Unknown", step.GetProperty("attempts").Items().Single().Str("outcome"));
        Assert.Equal("Person", history.GetProperty("waits").Items().Single().Str("kind"));
        var next = history.GetProperty("next").Items();
        Assert.Equal(["resolve", "resolve", "resolve", "cancel"], next.Select(a => a.Str("action")));
        next = [.. next.Take(3)];
        Assert.Equal(["retry", "complete", "fail"], next.Select(a => a.GetProperty("body").Str("action")));
        Assert.All(next, a => Assert.Equal(("POST", "/api/runs/charge-1/resolve"), (a.Str("method"), a.Str("path"))));
        // The handoff: the same actions, each with the call that does it; the state said in a sentence.
        var (handoffStatus, handoff) = await h.GetAsync("api/runs/charge-1/handoff");
        Assert.Equal(200, handoffStatus);
        Assert.Equal(["goal", "state", "ran", "decided", "failed", "remains", "next"], handoff.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith("needs a person's decision on step 'charge-card'", handoff.GetProperty("state").Str("summary"), StringComparison.Ordinal);
        var handoffNext = handoff.GetProperty("next").Items();
        Assert.Equal(["Resolve", "Resolve", "Resolve", "Cancel"], handoffNext.Select(a => a.Str("kind")));
        Assert.Equal(("POST", "/api/runs/charge-1/resolve", "complete"), (handoffNext[1].Str("method"), handoffNext[1].Str("path"), handoffNext[1].GetProperty("body").Str("action")));
        Assert.Equal(404, (await h.GetAsync("api/runs/no-such-run/handoff")).Status);
        var (conflict, refused) = await h.PostAsync("api/runs/charge-1/approvals", """{"approved":true}""");
        Assert.Equal(409, conflict);
        Assert.Contains("Step 'charge-card' of this run waits for a person's decision: POST /api/runs/charge-1/resolve", refused.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("/api/runs/charge-1/resolve", refused.Str("resolve"));

        var (bad, problem) = await h.PostAsync("api/runs/charge-1/resolve", """{"action":"redo"}""");
        Assert.Equal(400, bad);
        Assert.Contains("'retry', 'complete' or 'fail'", problem.Str("detail"), StringComparison.Ordinal);
        var (noResult, _) = await h.PostAsync("api/runs/charge-1/resolve", """{"action":"complete"}""");
        Assert.Equal(400, noResult);

        var (resolved, answer) = await h.PostAsync("api/runs/charge-1/resolve", """{"action":"complete","result":"charged 30 (checked in the PSP)","by":"bob"}""");
        Assert.Equal(202, resolved);
        Assert.Equal("charge-card", answer.Str("step"));
        var (_, done) = await h.GetAsync("api/runs/charge-1/wait?timeout=20");
        Assert.Equal("\"charged 30 (checked in the PSP)\"", done.Raw("result"));
        Assert.Equal(1, executions["charge-card"]);
        var (again, _) = await h.PostAsync("api/runs/charge-1/resolve", """{"action":"retry"}""");
        Assert.Equal(409, again);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task BadRequests_GetAClearProblem_AndStoreNothing(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        await h.PostAsync("api/runs", """{"workflow":"greet","input":"ada","runId":"keep-me"}""");

        async Task Refused(int expected, string method, string path, string? body, string detailContains)
        {
            var (status, problem) = await h.SendAsync(new HttpMethod(method), path, body);
            Assert.True(expected == status, $"{method} {path} answered {status}, expected {expected}: {problem}");
            Assert.Contains(detailContains, problem.Str("detail"), StringComparison.Ordinal);
            Assert.Equal(expected, problem.GetProperty("status").GetInt32());
        }

        await Refused(404, "GET", "api/runs/nope", null, "No run with id 'nope'");
        await Refused(404, "GET", "api/runs/nope/journal", null, "No run with id 'nope'");
        await Refused(404, "GET", "api/runs/nope/history", null, "No run with id 'nope'");
        await Refused(404, "POST", "api/runs/nope/signals/go", "1", "No run with id 'nope'");
        await Refused(404, "POST", "api/runs/nope/cancel", null, "No run with id 'nope'");
        await Refused(400, "POST", "api/runs", "{not json", "not what this call takes");
        await Refused(400, "POST", "api/runs", "", "has no body");
        await Refused(400, "POST", "api/runs", """{"input":1}""", "workflow");
        await Refused(400, "POST", "api/runs", """{"workflow":"greet","inptu":1}""", "inptu");
        await Refused(400, "POST", "api/runs", """{"workflow":" "}""", "'workflow' is empty");
        await Refused(409, "POST", "api/runs", """{"workflow":"refund","runId":"keep-me"}""", "keep-me");
        await Refused(400, "GET", "api/runs?status=Runing", null, "Unknown status 'Runing'");
        await Refused(400, "GET", "api/runs?limit=0", null, "'limit' must be a whole number from 1 to 1000");
        await Refused(400, "GET", "api/runs?createdAfter=yesterday", null, "ISO 8601");
        await Refused(400, "GET", "api/runs/keep-me/wait?timeout=999", null, "'timeout'");
        await Refused(400, "POST", "api/runs/keep-me/signals/go", "{oops", "payload of signal 'go'");
        await Refused(400, "POST", "api/runs/keep-me/signals/keel.approval", "true", "keel.");
        await Refused(400, "POST", "api/runs/keep-me/approvals", "{}", "approved");
        await Refused(400, "POST", "api/runs/keep-me/priority", """{"priority":"high"}""", "not what this call takes");
        await Refused(413, "POST", "api/runs", "\"" + new string('x', 1_100_000) + "\"", "larger than");

        var (_, all) = await h.GetAsync("api/runs");
        Assert.Equal(["keep-me"], all.Runs().Select(r => r.Str("runId")));
        Assert.Equal("\"hello ada\"", (await h.GetAsync("api/runs/keep-me/wait?timeout=20")).Body.Raw("result"));
    }

    [Fact]
    public async Task ApiKey_IsRequiredOnTheApi_NotOnTheDashboardPage()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register, apiKey: "s3cret-key-0123456789");

        var (missing, problem) = await h.GetAsync("api/runs");
        Assert.Equal(401, missing);
        Assert.Contains("Authorization: Bearer KEY", problem.Str("detail"), StringComparison.Ordinal);
        var (wrong, _) = await h.SendAsync(HttpMethod.Get, "api/runs", configure: r => r.Headers.Authorization = new("Bearer", "guess"));
        Assert.Equal(401, wrong);
        var (bearer, _) = await h.SendAsync(HttpMethod.Get, "api/runs", configure: r => r.Headers.Authorization = new("Bearer", "s3cret-key-0123456789"));
        Assert.Equal(200, bearer);
        var (header, started) = await h.SendAsync(HttpMethod.Post, "api/runs", """{"workflow":"greet","input":"x"}""",
            r => r.Headers.Add("X-Keel-Api-Key", "s3cret-key-0123456789"));
        Assert.Equal(201, header);
        Assert.True(started.GetProperty("created").GetBoolean());

        using var page = await h.Http.GetAsync(new Uri(h.BaseAddress, "/"), ServerHarness.Token);
        Assert.Equal(200, (int)page.StatusCode);
        Assert.Contains("<title>Keel</title>", await page.Content.ReadAsStringAsync(ServerHarness.Token), StringComparison.Ordinal);
    }
}
