using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Keel.Server.Tests;

/// <summary>
/// The dashboard in a real browser (headless Chromium driven by Playwright): a person finds the run, sees what it waits
/// for, decides, and sees what happened.
/// </summary>
public sealed class DashboardTests(Browser browser) : IClassFixture<Browser>
{
    private Task<IPage> OpenAsync(ServerHarness h, string fragment = "") => browser.OpenAsync(h, fragment);

    [Fact]
    public async Task APerson_FindsTheRunWaitingForThem_ApprovesWithAComment_AndSeesWhatHappened()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);
        await h.PostJsonAsync("api/runs", new { workflow = "greet", input = "bob", runId = "greet-bob" });
        await h.PostJsonAsync("api/runs", new { workflow = "refund", input = new Refund("ada", 40), runId = "refund-ada" });
        await h.EventuallyAsync("api/approvals", a => a.GetArrayLength() == 1, "the approval is pending");
        var page = await OpenAsync(h);

        // The list shows both runs with their states; the header counts what waits for a person.
        await Assertions.Expect(page.Locator("#runs tr[data-run='refund-ada'] [data-status]")).ToHaveTextAsync("Waiting");
        await Assertions.Expect(page.Locator("#runs tr[data-run='greet-bob'] [data-status]")).ToHaveTextAsync("Completed");
        await Assertions.Expect(page.Locator("#approval-count")).ToHaveTextAsync("1");

        await page.Locator("#runs tr[data-run='refund-ada']").ClickAsync();
        // The handoff heads the page: what the run waits for, and what a person can do about it.
        await Assertions.Expect(page.Locator("#handoff")).ToContainTextAsync("waiting for a decision on approval 'Refund 40 EUR to ada'");
        await Assertions.Expect(page.Locator("#handoff")).ToContainTextAsync("POST /api/runs/refund-ada/approvals");
        var card = page.Locator("[data-approval='refund']");
        await Assertions.Expect(card).ToContainTextAsync("Refund 40 EUR to ada");
        await Assertions.Expect(card).ToContainTextAsync("pay-refund");
        await card.Locator("input[name=by]").FillAsync("carol");
        await card.Locator("input[name=comment]").FillAsync("customer is right");
        await card.Locator("textarea[name=arguments]").FillAsync("""{"customer":"ada","amount":35}""");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        await Assertions.Expect(page.Locator("h1 [data-status]")).ToHaveTextAsync("Completed");
        await Assertions.Expect(page.Locator("#result")).ToContainTextAsync("paid 35 to ada");
        await Assertions.Expect(page.Locator("#handoff")).ToContainTextAsync("refund: approved with edited arguments by carol");
        await Assertions.Expect(page.Locator("#handoff")).ToContainTextAsync("$.amount: 40 → 35");
        await Assertions.Expect(page.Locator("#timeline tr[data-kind='Approval']")).ToContainTextAsync("approved by carol with edited arguments");
        await Assertions.Expect(page.Locator("#timeline tr[data-kind='Approval']")).ToContainTextAsync("customer is right");
        await Assertions.Expect(page.Locator("#timeline tr[data-kind='Step'][data-state='Completed']")).ToContainTextAsync("pay-refund");
        await Assertions.Expect(page.Locator("#timeline tr[data-event='Completed']")).ToContainTextAsync("run completed");
        await Assertions.Expect(page.Locator("#approval-count")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task ARunThatCalledAModel_ShowsItsTokensAtAGlance()
    {
        // What Keel.AI journals for a model call: the usage beside the response (see docs/ai.md).
        const string call = """{"model":"m","usage":{"input":1000,"output":234,"total":1234},"response":{"messages":[]}}""";
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, k => k.AddWorkflow<int, int>("agent", async (ctx, _) =>
        {
            for (var i = 0; i < 2; i++)
            {
                await ctx.StepAsync($"chat {i}", _ => Task.FromResult(System.Text.Json.JsonDocument.Parse(call).RootElement.Clone()));
            }
            return 0;
        }));
        await h.PostJsonAsync("api/runs", new { workflow = "agent", input = 0, runId = "agent-1" });
        await h.EventuallyAsync("api/runs?status=Completed", p => p.Runs().Length == 1, "the run completed");
        var page = await OpenAsync(h, "#/runs/agent-1");
        await Assertions.Expect(page.Locator(".glance")).ToContainTextAsync("2,468tokens over 2 model calls");
    }

    [Fact]
    public async Task TheRunList_PagesThroughOlderRuns()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);
        for (var i = 0; i < 53; i++)
        {
            await h.PostJsonAsync("api/runs", new { workflow = "greet", input = $"n{i}", runId = $"g-{i:D2}" });
        }
        await h.EventuallyAsync("api/runs?status=Completed&limit=100", p => p.Runs().Length == 53, "every run completed");
        var page = await OpenAsync(h);

        await Assertions.Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(50);
        await Assertions.Expect(page.Locator("#newer")).ToHaveCountAsync(0);
        await page.Locator("#older").ClickAsync();
        await Assertions.Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#older")).ToHaveCountAsync(0);
        var oldest = await page.Locator("#runs tbody tr").AllInnerTextsAsync();
        Assert.Contains(oldest, row => row.Contains("g-00", StringComparison.Ordinal));
        await page.Locator("#newer").ClickAsync();
        await Assertions.Expect(page.Locator("#runs tbody tr")).ToHaveCountAsync(50);
    }

    [Fact]
    public async Task ARunThatFailedAndWaits_ShowsItsRetriesAndError_AndAPersonResolvesTheUnknownOutcome()
    {
        var executions = new ConcurrentDictionary<string, int>();
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, k => TestWorkflows.RegisterCharge(k, executions, hangFirst: true));
        await h.PostAsync("api/runs", """{"workflow":"charge","input":30,"runId":"charge-1"}""");
        await h.EventuallyAsync("api/runs/charge-1/journal", j => j.Items().Any(e => e.Str("kind") == "StepStarted"), "the charge started");
        await h.StopWorkerAsync(h.Worker);
        await h.StartWorkerAsync(k => TestWorkflows.RegisterCharge(k, executions, hangFirst: false));
        await h.EventuallyAsync("api/runs/charge-1", r => r.Str("status") == "NeedsAttention", "the run needs a decision");
        var page = await OpenAsync(h, "#/runs/charge-1");

        await Assertions.Expect(page.Locator("h1 [data-status]")).ToHaveTextAsync("NeedsAttention");
        await Assertions.Expect(page.Locator("#timeline tr[data-state='NeedsAttention']")).ToContainTextAsync("needs a person's decision");
        var resolve = page.Locator("#resolve");
        await Assertions.Expect(resolve).ToContainTextAsync("charge-card");
        await Assertions.Expect(resolve.GetByRole(AriaRole.Button, new() { Name = "Run it again" })).ToBeVisibleAsync();
        await Assertions.Expect(resolve.GetByRole(AriaRole.Button, new() { Name = "Fail it" })).ToBeVisibleAsync();
        await resolve.Locator("input[name=result]").FillAsync("\"charged 30 (seen in the PSP)\"");
        await resolve.GetByRole(AriaRole.Button, new() { Name = "It happened" }).ClickAsync();

        await Assertions.Expect(page.Locator("h1 [data-status]")).ToHaveTextAsync("Completed");
        await Assertions.Expect(page.Locator("#timeline tr[data-name='charge-card']")).ToContainTextAsync("resolved by someone: complete");
        await Assertions.Expect(page.Locator("#timeline tr[data-name='charge-card']")).ToContainTextAsync("attempt 1 completed");
        Assert.Equal(1, executions["charge-card"]);

        // A refused action shows the server's own sentence.
        await page.GotoAsync(new Uri(h.BaseAddress, "/#/runs/nope").ToString());
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("No run with id 'nope'");
    }
}
