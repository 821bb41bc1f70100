namespace Keel.Tests.Engine;

public class AmbientContextTests
{
    [Fact]
    public async Task Current_IsTheRunsContextInWorkflowCode_AndNullInStepBodiesAndOutsideRuns()
    {
        using var db = new TempDatabase();
        WorkflowContext? inBody = null;
        var bodyRan = false;
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("ambient", async (ctx, _) =>
        {
            var before = ReferenceEquals(WorkflowContext.Current, ctx);
            await ctx.StepAsync("body", _ =>
            {
                inBody = WorkflowContext.Current;
                bodyRan = true;
                return Task.FromResult(1);
            });
            var after = ReferenceEquals(WorkflowContext.Current, ctx);
            return $"{before} {after}";
        }));
        var run = await keel.Client.StartAsync("ambient", 0, cancellationToken: TestHost.Token);
        Assert.Equal("True True", await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token));
        Assert.True(bodyRan);
        Assert.Null(inBody);
        Assert.Null(WorkflowContext.Current);
    }

    [Fact]
    public async Task DurableOperation_CalledAfterLeavingTheScheduler_FailsTheRunWithAClearMessage()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("off-scheduler", async (ctx, _) =>
        {
            await ctx.StepAsync("first", _ => Task.FromResult(1));
            return await Task.Run(() => ctx.StepAsync("second", _ => Task.FromResult(2)));
        }));
        var run = await keel.Client.StartAsync("off-scheduler", 0, cancellationToken: TestHost.Token);
        var info = await keel.Client.WaitForCompletionAsync(run.RunId, TestHost.Token);
        Assert.Equal(RunStatus.Failed, info.Status);
        Assert.Contains("outside the run's scheduler", info.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("'second'", info.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigureAwaitFalse_OverADurableOperation_ThatCompletesOnTheExecutor_StaysOnTheScheduler()
    {
        // Libraries (Microsoft.Extensions.AI among them) await with ConfigureAwait(false): the continuation of a durable
        // operation runs where its outcome is delivered, which is inside the executor's pump, so durable calls made
        // there are still on the run's scheduler and replay identically.
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("library-style", async (ctx, _) =>
            await LibraryAsync(ctx)));
        var run = await keel.Client.StartAsync("library-style", 0, cancellationToken: TestHost.Token);
        Assert.Equal(3, await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token));
    }

    private static async Task<int> LibraryAsync(WorkflowContext ctx)
    {
        var a = await ctx.StepAsync("a", _ => Task.FromResult(1)).ConfigureAwait(false);
        var b = await WorkflowContext.Current!.StepAsync("b", _ => Task.FromResult(2)).ConfigureAwait(false);
        return a + b;
    }
}
