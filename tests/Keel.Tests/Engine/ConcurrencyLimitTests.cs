namespace Keel.Tests.Engine;

public class ConcurrencyLimitTests
{
    [Fact]
    public async Task LimitedWorkflow_NeverHasMoreRunsExecutingThanItsLimit_WhileOthersAreUnaffected()
    {
        using var db = new TempDatabase();
        var running = 0;
        var peak = 0;
        var otherDone = 0;
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, int>("llm", async (ctx, x) => await ctx.StepAsync("call", async _ =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                await Task.Delay(TimeSpan.FromMilliseconds(40), TimeProvider.System);
                Interlocked.Decrement(ref running);
                return x;
            }))
            .AddWorkflow<int, int>("cheap", (_, x) =>
            {
                Interlocked.Increment(ref otherDone);
                return Task.FromResult(x);
            })
            .LimitConcurrency("llm", 2));

        var runs = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            runs.Add((await keel.Client.StartAsync("llm", i, cancellationToken: TestHost.Token)).RunId);
        }
        var cheap = (await keel.Client.StartAsync("cheap", 1, cancellationToken: TestHost.Token)).RunId;
        // The cheap run is not queued behind the limited ones.
        Assert.Equal(1, await keel.Client.GetResultAsync<int>(cheap, TestHost.Token));
        for (var i = 0; i < runs.Count; i++)
        {
            Assert.Equal(i, await keel.Client.GetResultAsync<int>(runs[i], TestHost.Token));
        }
        Assert.Equal(2, peak);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }
}
