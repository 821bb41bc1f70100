namespace Keel.Tests;

public class SmokeTests
{
    [Fact]
    public async Task ThreeSteps_Complete()
    {
        using var db = new TempDatabase();
        await using var keel = await KeelHost.StartAsync(k => k
            .UseSqlite(db.Path)
            .AddWorkflow<int, int>("add", async (ctx, n) =>
            {
                var a = await ctx.StepAsync("one", _ => Task.FromResult(n + 1));
                var b = await ctx.StepAsync("two", _ => Task.FromResult(a * 2));
                return await ctx.StepAsync("three", _ => Task.FromResult(b + 3));
            }));
        var start = await keel.Client.StartAsync("add", 1, cancellationToken: TestContext.Current.CancellationToken);
        var result = await keel.Client.GetResultAsync<int>(start.RunId, TestContext.Current.CancellationToken);
        Assert.Equal(7, result);
        var journal = await keel.Client.GetJournalAsync(start.RunId, TestContext.Current.CancellationToken);
        Assert.Equal(["one", "two", "three", "add"], journal.Select(e => e.Name));
    }
}
