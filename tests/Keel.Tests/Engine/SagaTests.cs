namespace Keel.Tests.Engine;

public class SagaTests
{
    private static void RegisterTrip(KeelBuilder k, Executions executions) => k.AddWorkflow<bool, string>("trip", async (ctx, failPayment) =>
    {
        var saga = ctx.CreateSaga();
        try
        {
            var flight = await saga.StepAsync("book-flight", _ => { executions.Add("book-flight"); return Task.FromResult("F1"); },
                (_, id) => { executions.Add($"cancel-flight {id}"); return Task.CompletedTask; });
            var hotel = await saga.StepAsync("book-hotel", _ => { executions.Add("book-hotel"); return Task.FromResult("H7"); },
                (_, id) => { executions.Add($"cancel-hotel {id}"); return Task.CompletedTask; });
            await ctx.StepAsync("charge", _ => failPayment ? throw new TerminalStepException("card declined") : Task.FromResult(1));
            return $"{flight}+{hotel}";
        }
        catch (StepFailedException)
        {
            await saga.CompensateAsync();
            throw;
        }
    });

    [Fact]
    public async Task Failure_RunsCompensationsInReverseOrder_EachAsAJournaledStep()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => RegisterTrip(k, executions));
        var ok = (await keel.Client.StartAsync("trip", false, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal("F1+H7", await keel.Client.GetResultAsync<string>(ok, TestHost.Token));
        Assert.Equal(0, executions["cancel-hotel H7"]);

        var failed = (await keel.Client.StartAsync("trip", true, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(failed, TestHost.Token)).Status);
        var steps = (await keel.Client.GetJournalAsync(failed, TestHost.Token)).Where(e => e.Kind == JournalEntryKind.StepCompleted).Select(e => e.Name);
        Assert.Equal(["book-flight", "book-hotel", "compensate:book-hotel", "compensate:book-flight"], steps);
        Assert.Equal(1, executions["cancel-hotel H7"]);
        Assert.Equal(1, executions["cancel-flight F1"]);
    }

    [Fact]
    public async Task Cancellation_RunsCompensations_AndTheRunEndsCancelled()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            var saga = ctx.CreateSaga();
            try
            {
                await saga.StepAsync("reserve-stock", _ => Task.FromResult(3), (_, n) => { executions.Add($"release-stock {n}"); return Task.CompletedTask; });
                await ctx.WaitForSignalAsync<bool>("paid");
                return "shipped";
            }
            catch (OperationCanceledException)
            {
                await saga.CompensateAsync();
                throw;
            }
        }));
        var runId = (await keel.Client.StartAsync("order", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the order waits for payment");
        await keel.Client.CancelAsync(runId, "customer gave up", TestHost.Token);
        Assert.Equal(RunStatus.Cancelled, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
        Assert.Equal(1, executions["release-stock 3"]);
    }

    [Fact]
    public async Task ContinueAsNew_StartsASuccessorWithAnEmptyJournal_AndWaitsFollowTheChain()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("countdown", async (ctx, n) =>
        {
            var next = await ctx.StepAsync("tick", _ => Task.FromResult(n - 1));
            if (next > 0)
            {
                throw ctx.ContinueAsNew(next);
            }
            return 100;
        }));
        var runId = (await keel.Client.StartAsync("countdown", 3, new StartWorkflowOptions { RunId = "loop" }, TestHost.Token)).RunId;

        Assert.Equal(100, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
        var first = await keel.Client.GetRunAsync("loop", TestHost.Token);
        Assert.Equal("loop~2", first!.ContinuedAsRunId);
        Assert.Equal(RunStatus.Completed, first.Status);
        Assert.Equal("loop~3", (await keel.Client.GetRunAsync("loop~2", TestHost.Token))!.ContinuedAsRunId);
        var last = await keel.Client.GetRunAsync("loop~3", TestHost.Token);
        Assert.Equal("1", last!.Input);
        Assert.Null(last.ContinuedAsRunId);
        // Each journal holds only its own run's work.
        Assert.Equal([JournalEntryKind.RunClaimed, JournalEntryKind.StepCompleted, JournalEntryKind.RunContinuedAsNew],
            (await keel.Client.GetJournalAsync("loop~2", TestHost.Token)).Select(e => e.Kind));
        Assert.Equal([JournalEntryKind.RunClaimed, JournalEntryKind.StepCompleted, JournalEntryKind.RunCompleted],
            (await keel.Client.GetJournalAsync("loop~3", TestHost.Token)).Select(e => e.Kind));
    }

    [Fact]
    public async Task ContinueAsNew_SkipsASuccessorIdThatAnUnrelatedRunHas()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k =>
        {
            k.AddWorkflow<int, int>("countdown", async (ctx, n) =>
            {
                var next = await ctx.StepAsync("tick", _ => Task.FromResult(n - 1));
                return next > 0 ? throw ctx.ContinueAsNew(next) : 100;
            });
            k.AddWorkflow<string, string>("other", (ctx, s) => ctx.StepAsync("echo", _ => Task.FromResult(s)));
        });
        await keel.Client.StartAsync("other", "mine", new StartWorkflowOptions { RunId = "job~2" }, TestHost.Token);
        await keel.Client.WaitForCompletionAsync("job~2", TestHost.Token);

        await keel.Client.StartAsync("countdown", 2, new StartWorkflowOptions { RunId = "job" }, TestHost.Token);
        Assert.Equal(100, await keel.Client.GetResultAsync<int>("job", TestHost.Token));
        Assert.Equal("job~3", (await keel.Client.GetRunAsync("job", TestHost.Token))!.ContinuedAsRunId);
        var unrelated = await keel.Client.GetRunAsync("job~2", TestHost.Token);
        Assert.Equal("other", unrelated!.WorkflowName);
        Assert.Equal("\"mine\"", unrelated.Result);
        Assert.Null(unrelated.ContinuedAsRunId);
    }

    [Fact]
    public async Task CleanupAfterCancellation_MayWaitForAPerson()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("order", async (ctx, amount) =>
        {
            try
            {
                return await ctx.WaitForSignalAsync<string>("shipped");
            }
            catch (OperationCanceledException)
            {
                using (ctx.NonCancellable())
                {
                    var refund = await ctx.RequestApprovalAsync(new ApprovalRequest<int> { Name = "refund-on-cancel", Title = "Refund the deposit?", Arguments = amount });
                    if (refund.IsApproved)
                    {
                        await ctx.StepAsync("refund", _ =>
                        {
                            executions.Add($"refund {refund.Arguments}");
                            return Task.FromResult(true);
                        });
                    }
                }
                throw;
            }
        }));
        var runId = (await keel.Client.StartAsync("order", 40, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the order waits");
        await keel.Client.CancelAsync(runId, "customer cancelled", TestHost.Token);
        await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: TestHost.Token)).Count == 1,
            "the cleanup asks a person");
        await keel.Client.DecideApprovalAsync(runId, new ApprovalResponse { Approved = true, By = "support", ArgumentsJson = "25" }, TestHost.Token);

        Assert.Equal(RunStatus.Cancelled, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
        Assert.Equal(1, executions["refund 25"]);
    }
}
