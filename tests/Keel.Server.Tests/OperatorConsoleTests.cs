using System.Collections.Concurrent;
using System.Diagnostics;
using Deque.AxeCore.Playwright;
using Keel.Storage;
using Microsoft.Playwright;

namespace Keel.Server.Tests;

/// <summary>
/// The operator console in a real browser: live updates that keep what a person opened, the inbox of everything that
/// waits for a person, roles, approval links, long agent runs, accessibility (axe-core) and a phone-sized screen.
/// </summary>
public sealed class OperatorConsoleTests(Browser browser) : IClassFixture<Browser>
{
    private const string Viewer = "viewer-key-0123456789", Approver = "approver-key-0123456789", Operator = "operator-key-0123456789";

    private static readonly KeelApiKey[] Keys =
        [new("vic", KeelApiRole.Viewer, Viewer), new("ana", KeelApiRole.Approver, Approver), new("ops", KeelApiRole.Operator, Operator)];

    /// <summary>first (a result), then waits for "go", then second.</summary>
    private static void StepsAroundASignal(KeelBuilder k) => k.AddWorkflow<int, string>("around", async (ctx, _) =>
    {
        await ctx.StepAsync("first", _ => Task.FromResult(new { answer = 42 }));
        var go = await ctx.WaitForSignalAsync<int>("go");
        return await ctx.StepAsync("second", _ => Task.FromResult($"went {go}"));
    });

    /// <summary>An agent-sized run: <c>n</c> steps named "call N" (one family: grouped on the page).</summary>
    private static void ManySteps(KeelBuilder k) => k.AddWorkflow<int, int>("many", async (ctx, n) =>
    {
        for (var i = 0; i < n; i++)
        {
            await ctx.StepAsync($"call {i}", _ => Task.FromResult(i));
        }
        return n;
    });

    [Fact]
    public async Task ANewEntryAppearsWithoutReload_AndWhatThePersonOpenedStaysOpen()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, k => { TestWorkflows.Register(k); StepsAroundASignal(k); });
        await h.PostJsonAsync("api/runs", new { workflow = "around", input = 0, runId = "around-1" });
        await h.EventuallyAsync("api/runs/around-1", r => r.Str("status") == "Waiting", "the run waits for go");
        var page = await browser.OpenAsync(h, "#/runs/around-1");
        var first = page.Locator("#timeline tr[data-name='first'] details[data-section='result']");
        await first.Locator("summary").ClickAsync();
        await Assertions.Expect(first).ToHaveAttributeAsync("open", "");
        await page.EvaluateAsync("() => { window.keelNotReloaded = true; window.keelFirstRow = document.querySelector('#timeline tr[data-name=first]'); }");

        // The signal is sent by someone else (the API, not this page): the page hears of it by its stream.
        await h.PostAsync("api/runs/around-1/signals/go", "7");
        await Assertions.Expect(page.Locator("#timeline tr[data-name='second']")).ToContainTextAsync("attempt 1 completed");
        await Assertions.Expect(page.Locator("h1 [data-status]")).ToHaveTextAsync("Completed");
        await Assertions.Expect(page.Locator("#result")).ToContainTextAsync("went 7");
        Assert.True(await page.EvaluateAsync<bool>("() => window.keelNotReloaded === true"), "the page was reloaded");
        // The same row element, still open: nothing was redrawn under the person.
        Assert.True(await page.EvaluateAsync<bool>("() => window.keelFirstRow === document.querySelector('#timeline tr[data-name=first]')"), "the row was redrawn");
        await Assertions.Expect(first).ToHaveAttributeAsync("open", "");

        // The list follows the store too: a run started elsewhere appears on top without a reload.
        await page.GotoAsync(new Uri(h.BaseAddress, "/#/").ToString());
        await Assertions.Expect(page.Locator("#runs tr[data-run='around-1']")).ToBeVisibleAsync();
        await h.PostJsonAsync("api/runs", new { workflow = "greet", input = "zoe", runId = "greet-zoe" });
        await Assertions.Expect(page.Locator("#runs tbody tr").First).ToHaveAttributeAsync("data-run", "greet-zoe");
        await Assertions.Expect(page.Locator("#runs tr[data-run='greet-zoe'] [data-status]")).ToHaveTextAsync("Completed");
        // Per-status counts follow too, and narrow the list when chosen.
        await Assertions.Expect(page.Locator("#status-counts [data-count='Completed']")).ToHaveTextAsync("Completed 2", new() { Timeout = 10_000 });
        await page.Locator("#status-counts [data-count='Completed']").ClickAsync();
        await Assertions.Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("select[name=status]")).ToHaveValueAsync("Completed");
    }

    [Fact]
    public async Task TheInbox_ListsApprovalsRunsThatNeedADecisionBlockedAndFailedRuns_WithCounts_AndWorkersShowWhoIsSilent()
    {
        var executions = new ConcurrentDictionary<string, int>();
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, k => { TestWorkflows.Register(k); TestWorkflows.RegisterCharge(k, executions, hangFirst: true); });
        await h.PostJsonAsync("api/runs", new { workflow = "refund", input = new Refund("ada", 40), runId = "refund-ada" });
        await h.PostAsync("api/runs", """{"workflow":"charge","input":30,"runId":"charge-1"}""");
        await h.EventuallyAsync("api/runs/charge-1/journal", j => j.Items().Any(e => e.Str("kind") == "StepStarted"), "the charge started");
        await h.StopWorkerAsync(h.Worker);
        await h.StartWorkerAsync(k => { TestWorkflows.Register(k); TestWorkflows.RegisterCharge(k, executions, hangFirst: false); });
        await h.EventuallyAsync("api/runs/charge-1", r => r.Str("status") == "NeedsAttention", "the charge needs a decision");
        await BlockAsync(h, "stuck");
        // A run held by a worker that stopped answering (its heartbeat is old): shown as such, not as "Running".
        var now = DateTimeOffset.UtcNow;
        await h.Store.RecordWorkerAsync(new WorkerInfo { WorkerId = "w-dead", Host = "box-9", ProcessId = 99, Workflows = ["greet"], StartedAt = now.AddHours(-1), LastSeenAt = now.AddMinutes(-5) }, ServerHarness.Token);
        await h.Store.CreateRunAsync(new NewRun { RunId = "orphan", WorkflowName = "nobody-runs-this", Input = "0", CreatedAt = now, Owner = "w-dead", LeaseExpiresAt = now.AddMinutes(10) }, ServerHarness.Token);

        var page = await browser.OpenAsync(h, "#/inbox");
        await Assertions.Expect(page.Locator("#inbox-approvals [data-approval='refund']")).ToContainTextAsync("Refund 40 EUR to ada");
        await Assertions.Expect(page.Locator("#attention-runs tr[data-run='charge-1']")).ToContainTextAsync("NeedsAttention");
        await Assertions.Expect(page.Locator("#blocked-runs tr[data-run='stuck']")).ToContainTextAsync("quarantined");
        await Assertions.Expect(page.Locator("#inbox-attention-title .pill")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#inbox-count")).ToHaveTextAsync("3");

        await page.Locator("[data-nav=workers]").ClickAsync();
        await Assertions.Expect(page.Locator("#workers tr[data-worker='w-dead']")).ToContainTextAsync("silent");
        var live = (await h.GetAsync("api/workers")).Body.Items().Single(w => w.GetProperty("alive").GetBoolean()).Str("workerId");
        await Assertions.Expect(page.Locator($"#workers tr[data-worker='{live}']")).ToContainTextAsync("alive");
        await page.GotoAsync(new Uri(h.BaseAddress, "/#/runs/orphan").ToString());
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("worker silent");
        await Assertions.Expect(page.Locator(".facts")).ToContainTextAsync("w-dead, which has gone silent");

        // A run that fails shows why in the list and in the inbox's failed part.
        await h.PostAsync("api/runs/charge-1/resolve", """{"action":"fail","reason":"the PSP refused it"}""");
        await h.EventuallyAsync("api/runs/charge-1", r => r.Str("status") == "Failed", "the charge failed");
        await page.GotoAsync(new Uri(h.BaseAddress, "/#/inbox").ToString());
        await Assertions.Expect(page.Locator("#failed-runs tr[data-run='charge-1'] .why")).ToContainTextAsync("the PSP refused it");
    }

    [Fact]
    public async Task AViewerSignsInWithAForm_AndMayReadButNotApprove_WhileAnApproverMay()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register, apiKeys: Keys);
        await h.SendAsync(HttpMethod.Post, "api/runs", """{"workflow":"refund","input":{"customer":"ada","amount":40},"runId":"refund-ada"}""", Key(Operator));
        var page = await browser.OpenAsync(h, "#/runs/refund-ada");
        var dialogs = 0;
        page.Dialog += (_, d) => { dialogs++; _ = d.DismissAsync(); };

        await Assertions.Expect(page.Locator("#sign-in")).ToContainTextAsync("needs a key");
        await page.Locator("#sign-in input[name=api-key]").FillAsync("wrong-key-0123456789");
        await page.Locator("#sign-in button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("[role=alert]").Last).ToContainTextAsync("The API key is wrong");
        await page.Locator("#sign-in input[name=api-key]").FillAsync(Viewer);
        await page.Locator("#sign-in button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("vic · viewer");
        var card = page.Locator("[data-approval='refund']");
        await Assertions.Expect(card).ToContainTextAsync("may read this approval but not decide it");
        await Assertions.Expect(card.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#controls")).ToHaveCountAsync(0);
        Assert.Equal(0, dialogs); // no prompt(), no alert()
        // The server refuses it too, whatever a page shows.
        var (status, problem) = await h.SendAsync(HttpMethod.Post, "api/runs/refund-ada/approvals", """{"approved":true}""", Key(Viewer));
        Assert.Equal(403, status);
        Assert.Contains("vic", problem.Str("detail"), StringComparison.Ordinal);

        await page.Locator("#who button").ClickAsync(); // sign out
        await page.Locator("#sign-in input[name=api-key]").FillAsync(Approver);
        await page.Locator("#sign-in button[type=submit]").ClickAsync();
        await card.Locator("input[name=comment]").FillAsync("fine");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1 [data-status]")).ToHaveTextAsync("Completed");
        // Journaled as the key's name, not as whatever a page or body says.
        await Assertions.Expect(page.Locator("#handoff")).ToContainTextAsync("refund: approved by ana");
    }

    [Fact]
    public async Task AnApprovalLink_WorksOnceWithoutAKey_ThenIsRefused_AndAnAlteredLinkIsRefused()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register, apiKeys: Keys);
        await h.SendAsync(HttpMethod.Post, "api/runs", """{"workflow":"refund","input":{"customer":"ada","amount":40},"runId":"refund-ada"}""", Key(Operator));
        await EventuallyPendingAsync(h, "refund-ada");
        var (made, link) = await h.SendAsync(HttpMethod.Post, "api/runs/refund-ada/approvals/links", """{"reviewer":"dana@example.com"}""", Key(Approver));
        Assert.Equal(201, made);
        var path = link.Str("link");
        Assert.StartsWith("/#/approve/", path, StringComparison.Ordinal);
        var token = link.Str("token");

        // The reviewer has no key: the link alone shows the approval and takes one decision.
        var page = await browser.OpenAsync(h, path.TrimStart('/'));
        await Assertions.Expect(page.Locator("#link-approval")).ToContainTextAsync("Refund 40 EUR to ada");
        await Assertions.Expect(page.Locator("#link-approval")).ToContainTextAsync("For dana@example.com, sent by ana");
        await page.Locator("#link-approval textarea[name=arguments]").FillAsync("""{"customer":"ada","amount":30}""");
        await page.Locator("#link-approval input[name=comment]").FillAsync("30 is fair");
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(page.Locator("#link-done")).ToContainTextAsync("cannot be used again");
        var run = await EventuallyAsync(h, "api/runs/refund-ada", r => r.Str("status") == "Completed");
        Assert.Equal("\"paid 30 to ada\"", run.Raw("result"));
        var (_, history) = await h.SendAsync(HttpMethod.Get, "api/runs/refund-ada/handoff", configure: Key(Viewer));
        Assert.Contains("dana@example.com (approval link from ana)", history.GetRawText(), StringComparison.Ordinal);

        // Used: the same link again, in the browser and through the API, changes nothing and says who decided.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#link-refused")).ToContainTextAsync("was approved by dana@example.com (approval link from ana)");
        var (again, refused) = await h.PostAsync("api/approval-links/decide", $$"""{"token":"{{token}}","approved":false}""");
        Assert.Equal(409, again);
        Assert.Contains("can no longer be used", refused.Str("detail"), StringComparison.Ordinal);

        // Altered: one character of the signed part changed.
        var altered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        var (tampered, problem) = await h.PostAsync("api/approval-links/read", $$"""{"token":"{{altered}}"}""");
        Assert.Equal(403, tampered);
        Assert.Contains("not valid", problem.Str("detail"), StringComparison.Ordinal);
        // Making a link needs an approver's key; reading one needs no key but a valid token.
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Post, "api/runs/refund-ada/approvals/links", """{"reviewer":"x"}""", Key(Viewer))).Status);
        Assert.Equal(400, (await h.PostAsync("api/approval-links/read", """{"token":"nonsense"}""")).Status);
    }

    [Fact]
    public async Task ARunOf2000JournalEntries_RendersGroupedAndPaged()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, ManySteps);
        await h.PostJsonAsync("api/runs", new { workflow = "many", input = 2000, runId = "agent-2000" });
        var history = await EventuallyAsync(h, "api/runs/agent-2000/history", r => r.GetProperty("run").Str("status") == "Completed");
        Assert.True(history.GetProperty("summary").GetProperty("entries").GetInt32() >= 2000);

        var clock = Stopwatch.StartNew();
        var page = await browser.OpenAsync(h, "#/runs/agent-2000");
        await Assertions.Expect(page.Locator("#timeline tr.group")).ToContainTextAsync("300 \u00d7 call");
        TestContext.Current.TestOutputHelper?.WriteLine($"2,000-entry run page shown in {clock.ElapsedMilliseconds} ms (goto to grouped timeline)");
        // Paged: 300 operations first, grouped into one closed row; more on demand.
        await Assertions.Expect(page.Locator("#timeline tr[data-kind=Step]:not([hidden])")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#more")).ToContainTextAsync("1700 not shown");
        await page.Locator("#timeline tr.group button").ClickAsync();
        await Assertions.Expect(page.Locator("#timeline tr[data-kind=Step]:not([hidden])")).ToHaveCountAsync(300);
        await page.Locator("#more").ClickAsync();
        await Assertions.Expect(page.Locator("#more")).ToContainTextAsync("1400 not shown");
        await Assertions.Expect(page.Locator("#waterfall .bar-row[data-key^=bar-]")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task EveryPage_HasNoSeriousAccessibilityViolation_AndFitsAPhoneScreen()
    {
        var executions = new ConcurrentDictionary<string, int>();
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, k => { TestWorkflows.Register(k); StepsAroundASignal(k); });
        await h.PostJsonAsync("api/runs", new { workflow = "refund", input = new Refund("a-customer-with-a-rather-long-name", 40), runId = "refund-with-a-long-run-id-0001" });
        await h.PostJsonAsync("api/runs", new { workflow = "around", input = 0, runId = "around-1" });
        await BlockAsync(h, "stuck");
        await EventuallyPendingAsync(h, "refund-with-a-long-run-id-0001");
        await h.EventuallyAsync("api/runs/around-1", r => r.Str("status") == "Waiting", "around waits");

        foreach (var width in new int?[] { null, 390 })
        {
            foreach (var fragment in new[] { "#/", "#/inbox", "#/approvals", "#/workers", "#/runs/around-1", "#/runs/refund-with-a-long-run-id-0001", "#/runs/stuck" })
            {
                var page = await browser.OpenAsync(h, fragment, width);
                await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 3000 }).ContinueWith(_ => { }, TaskScheduler.Default); // streams stay open
                var axe = await page.RunAxe();
                var serious = axe.Violations.Where(v => v.Impact is "critical" or "serious")
                    .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}").ToArray();
                Assert.True(serious.Length == 0, $"{fragment} at {(width is { } px ? px + " px" : "desktop")} width: {string.Join("\n", serious)}");
                if (width is { } w)
                {
                    var scroll = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
                    Assert.True(scroll <= w, $"{fragment} is {scroll} px wide on a {w} px screen: it scrolls sideways");
                }
                await page.Context.CloseAsync();
            }
        }

        // The sign-in form and a reviewer's link page too.
        await using var keyed = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register, apiKeys: Keys);
        var signIn = await browser.OpenAsync(keyed, "#/", 390);
        await Assertions.Expect(signIn.Locator("#sign-in")).ToBeVisibleAsync();
        var violations = (await signIn.RunAxe()).Violations.Where(v => v.Impact is "critical" or "serious").Select(v => v.Id).ToArray();
        Assert.Empty(violations);
    }

    /// <summary>A run of "greet" blocked before any worker ran it (as a quarantine leaves it).</summary>
    private static async Task BlockAsync(ServerHarness h, string runId)
    {
        var now = DateTimeOffset.UtcNow;
        await h.Store.CreateRunAsync(new NewRun { RunId = runId, WorkflowName = "greet", Input = "\"bo\"", CreatedAt = now, Owner = "gone", LeaseExpiresAt = now.AddMinutes(1) }, ServerHarness.Token);
        Assert.True(await h.Store.AppendAsync(new RunLease(runId, "gone", 1),
            [new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunBlocked, Name = "greet", RecordedAt = now }],
            RunUpdate.Finish(RunStatus.Blocked, now, error: new ErrorInfo("Crashed", "the worker died three times", null), reason: "quarantined"), ServerHarness.Token));
    }

    private static Action<HttpRequestMessage> Key(string key) => m => m.Headers.Authorization = new("Bearer", key);

    private static async Task EventuallyPendingAsync(ServerHarness h, string runId) =>
        await EventuallyAsync(h, $"api/approvals?runId={runId}", a => a.GetArrayLength() == 1);

    /// <summary>Polls with the operator's key when the server has keys (the harness's own poll sends none).</summary>
    private static async Task<System.Text.Json.JsonElement> EventuallyAsync(ServerHarness h, string path, Func<System.Text.Json.JsonElement, bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (status, body) = await h.SendAsync(HttpMethod.Get, path, configure: Key(Operator));
            if (status == 200 && condition(body))
            {
                return body;
            }
            Assert.True(DateTime.UtcNow < until, $"timed out waiting on {path}: last {status} {body}");
            await Task.Delay(50, ServerHarness.Token);
        }
    }
}
