namespace Keel.Tests.Engine;

public class StatusTests
{
    [Fact]
    public async Task SetStatus_IsVisibleWhileAStepRuns_AndKeptAfterwards()
    {
        using var db = new TempDatabase();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("reporting", async (ctx, _) =>
        {
            ctx.SetStatus("searching", new { sources = 3 });
            await ctx.StepAsync("search", async sc =>
            {
                executions.Add("search");
                await release.Task.WaitAsync(sc.CancellationToken);
                return 1;
            });
            ctx.SetStatus("summarizing");
            return await ctx.StepAsync("summarize", _ => Task.FromResult(2));
        }));
        var run = await keel.Client.StartAsync("reporting", 0, cancellationToken: TestHost.Token);
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["search"] == 1), "the search step runs");
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CustomStatus is not null,
            "the status is stored while the step runs");
        var during = (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CustomStatus!;
        Assert.Equal("searching", during.Text);
        Assert.Equal("{\"sources\":3}", during.Data);

        release.SetResult();
        await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token);
        var after = (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.CustomStatus!;
        Assert.Equal("summarizing", after.Text);
        Assert.Null(after.Data);
        Assert.DoesNotContain(await keel.Client.GetJournalAsync(run.RunId, TestHost.Token), e => e.Name == "searching"); // not journaled
    }
}
