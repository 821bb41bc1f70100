using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Tests.Engine;

public class ApprovalTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    internal sealed record Refund(string Customer, decimal Amount);

    private static void Register(KeelBuilder k, Executions executions, TimeSpan? timeout = null) =>
        k.AddWorkflow<Refund, string>("refund", async (ctx, proposed) =>
        {
            var decision = await ctx.RequestApprovalAsync(new ApprovalRequest<Refund>
            {
                Name = "refund", Title = $"Refund {proposed.Amount} to {proposed.Customer}", Details = "Order 1042 arrived broken.",
                Action = "issue-refund", Arguments = proposed, Timeout = timeout,
            });
            return decision.Outcome switch
            {
                ApprovalOutcome.Approved => await ctx.StepAsync("issue-refund", _ =>
                {
                    executions.Add("issue-refund");
                    return Task.FromResult($"refunded {decision.Arguments.Amount} (edited: {decision.ArgumentsEdited}, by {decision.DecidedBy}: {decision.Comment})");
                }),
                ApprovalOutcome.Rejected => $"rejected by {decision.DecidedBy}: {decision.Comment}",
                _ => "expired: escalated",
            };
        });

    [Fact]
    public async Task Approve_WithEditedArguments_TheWorkflowActsOnTheEditedOnes_AndTheJournalKeepsBoth()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions));
        var runId = (await keel.Client.StartAsync("refund", new Refund("ada", 100m), cancellationToken: TestHost.Token)).RunId;
        PendingApproval? pending = null;
        await TestHost.EventuallyAsync(async () => (pending = (await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token)).SingleOrDefault()) is not null,
            "the approval is pending");
        Assert.Equal(runId, pending!.RunId);
        Assert.Equal("Refund 100 to ada", pending.Title);
        Assert.Equal("issue-refund", pending.Action);
        Assert.Equal(100m, JsonDocument.Parse(pending.ArgumentsJson).RootElement.GetProperty("amount").GetDecimal());
        await TestHost.EventuallyAsync(() => Task.FromResult(keel.Worker!.ActiveRuns == 0), "the waiting run holds no memory");

        await keel.Client.DecideApprovalAsync(runId, new ApprovalResponse
        {
            Approved = true, By = "alice", Comment = "partial refund is enough", ArgumentsJson = """{"customer":"ada","amount":80}""",
        }, TestHost.Token);

        Assert.Equal("refunded 80 (edited: True, by alice: partial refund is enough)", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
        var requested = Assert.Single(journal, e => e.Kind == JournalEntryKind.ApprovalRequested);
        var decided = Assert.Single(journal, e => e.Kind == JournalEntryKind.ApprovalDecided);
        Assert.Equal(requested.Sequence, decided.Sequence);
        using var payload = JsonDocument.Parse(decided.Payload!);
        Assert.Equal("alice", payload.RootElement.GetProperty("by").GetString());
        Assert.Equal("Approved", payload.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(100m, payload.RootElement.GetProperty("proposedArguments").GetProperty("amount").GetDecimal());
        Assert.Equal(80m, payload.RootElement.GetProperty("editedArguments").GetProperty("amount").GetDecimal());
        Assert.Empty(await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token));
        Assert.Equal(1, executions["issue-refund"]);
    }

    [Fact]
    public async Task Reject_SkipsTheGatedStep_AndASecondDecisionIsRefused()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions));
        var runId = (await keel.Client.StartAsync("refund", new Refund("bob", 500m), cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: TestHost.Token)).Count == 1, "the approval is pending");

        await keel.Client.DecideApprovalAsync(runId, new ApprovalResponse { Approved = false, By = "carol", Comment = "fraud risk" }, TestHost.Token);
        // Refused either way: the approval is decided, or (if the run already went on to finish) the run is finished.
        var again = await Assert.ThrowsAnyAsync<KeelException>(() =>
            keel.Client.DecideApprovalAsync(runId, new ApprovalResponse { Approved = true, By = "dave" }, TestHost.Token));
        Assert.True(again is ApprovalNotPendingException or RunFinishedException, again.GetType().Name);
        Assert.Contains(runId, again.Message, StringComparison.Ordinal);

        Assert.Equal("rejected by carol: fraud risk", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal(0, executions["issue-refund"]);
    }

    [Fact]
    public async Task Deadline_EndsTheWaitAsExpired_AndTheWorkflowEscalates()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        await using var keel = await TestHost.StartAsync(db, k => Register(k, new Executions(), TimeSpan.FromDays(1)), time);
        var runId = (await keel.Client.StartAsync("refund", new Refund("eve", 5m), cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: TestHost.Token)).Count == 1, "the approval is pending");
        Assert.Equal(T0.AddDays(1), (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: TestHost.Token))[0].Deadline);
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");

        time.Advance(TimeSpan.FromDays(1));

        Assert.Equal("expired: escalated", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Empty(await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token));
        await Assert.ThrowsAsync<RunFinishedException>(() =>
            keel.Client.DecideApprovalAsync(runId, new ApprovalResponse { Approved = true }, TestHost.Token));
    }

    [Fact]
    public async Task PendingApprovals_AreListedOldestFirst_AndBadDecisionsAreRefusedClearly()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(T0);
        await using var keel = await TestHost.StartAsync(db, k => Register(k, new Executions()), time);
        var first = (await keel.Client.StartAsync("refund", new Refund("a", 1m), cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token)).Count == 1, "the first is pending");
        time.Advance(TimeSpan.FromMinutes(5));
        var second = (await keel.Client.StartAsync("refund", new Refund("b", 2m), cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token)).Count == 2, "both are pending");

        var pending = await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token);
        Assert.Equal([first, second], pending.Select(p => p.RunId));
        Assert.Equal(TimeSpan.FromMinutes(5), pending[0].WaitingFor(time.GetUtcNow()));

        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.DecideApprovalAsync("missing", new ApprovalResponse { Approved = true }, TestHost.Token));
        var wrongName = await Assert.ThrowsAsync<ApprovalNotPendingException>(() =>
            keel.Client.DecideApprovalAsync(first, new ApprovalResponse { Approved = true, ApprovalName = "deploy" }, TestHost.Token));
        Assert.Contains("'refund'", wrongName.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() =>
            keel.Client.DecideApprovalAsync(first, new ApprovalResponse { Approved = true, ArgumentsJson = "{broken" }, TestHost.Token));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            keel.Client.DecideApprovalAsync(first, new ApprovalResponse { Approved = false, ArgumentsJson = "{}" }, TestHost.Token));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            keel.Client.DecideApprovalAsync(first, new ApprovalResponse { Approved = true, Option = "half" }, TestHost.Token));
        Assert.Equal(2, (await keel.Client.ListPendingApprovalsAsync(cancellationToken: TestHost.Token)).Count);
    }

    [Fact]
    public async Task TwoApprovalsAskedAtOnce_AreBothPending_AndEachDecisionReachesItsOwn()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("two-keys", async (ctx, _) =>
        {
            var first = ctx.RequestApprovalAsync(new ApprovalRequest<int> { Name = "finance", Title = "Budget", Arguments = 1 });
            var second = ctx.RequestApprovalAsync(new ApprovalRequest<int> { Name = "legal", Title = "Contract", Arguments = 2 });
            var decisions = await Task.WhenAll(first, second);
            return string.Join(",", decisions.Select(d => $"{d.Outcome}:{d.DecidedBy}"));
        }));
        var runId = (await keel.Client.StartAsync("two-keys", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: TestHost.Token)).Count == 2, "both are pending");
        await keel.Client.DecideApprovalAsync(runId, new ApprovalResponse { Approved = false, By = "lena", ApprovalName = "legal" }, TestHost.Token);
        await keel.Client.DecideApprovalAsync(runId, new ApprovalResponse { Approved = true, By = "finn", ApprovalName = "finance" }, TestHost.Token);
        Assert.Equal("Approved:finn,Rejected:lena", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Empty(await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: TestHost.Token));
    }
}
