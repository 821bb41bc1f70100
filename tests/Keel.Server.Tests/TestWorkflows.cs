using System.Collections.Concurrent;

namespace Keel.Server.Tests;

public sealed record Refund(string Customer, int Amount);

/// <summary>The workflows the API and dashboard tests drive.</summary>
internal static class TestWorkflows
{
    /// <summary>greet: one step. refund: asks a person, then pays what they approved. wait-for-go: waits for signal "go".</summary>
    public static void Register(KeelBuilder k)
    {
        k.AddWorkflow<string, string>("greet", (ctx, name) => ctx.StepAsync("greet", _ => Task.FromResult($"hello {name}")));
        k.AddWorkflow<Refund, string>("refund", async (ctx, refund) =>
        {
            var decision = await ctx.RequestApprovalAsync(new ApprovalRequest<Refund>
            {
                Name = "refund", Title = $"Refund {refund.Amount} EUR to {refund.Customer}", Details = "Order 1234 arrived broken.",
                Action = "pay-refund", Arguments = refund,
            });
            if (decision.Outcome != ApprovalOutcome.Approved)
            {
                return $"refund {decision.Outcome.ToString().ToLowerInvariant()} by {decision.DecidedBy}";
            }
            return await ctx.StepAsync("pay-refund", _ => Task.FromResult($"paid {decision.Arguments.Amount} to {decision.Arguments.Customer}"),
                new StepOptions { Requires = [StepGuard.ApprovalGranted("refund")] });
        });
        k.AddWorkflow<string, int>("wait-for-go", async (ctx, _) =>
        {
            ctx.SetStatus("waiting for go");
            return await ctx.WaitForSignalAsync<int>("go");
        });
    }

    /// <summary>charge: an at-most-once step; its first body hangs until the worker stops (a crash mid-body).</summary>
    public static void RegisterCharge(KeelBuilder k, ConcurrentDictionary<string, int> executions, bool hangFirst) =>
        k.AddWorkflow<int, string>("charge", (ctx, amount) => ctx.StepAsync("charge-card", async step =>
        {
            var n = executions.AddOrUpdate("charge-card", 1, (_, c) => c + 1);
            if (hangFirst && n == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, step.CancellationToken);
            }
            return $"charged {amount}";
        }, new StepOptions { Effect = StepEffect.AtMostOnce }));
}
