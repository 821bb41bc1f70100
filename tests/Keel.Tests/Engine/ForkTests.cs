namespace Keel.Tests.Engine;

/// <summary>Fork from a step: the prefix is reused (no body runs again), the rest runs live, optionally with a corrected value.</summary>
public class ForkTests
{
    private static void Register(KeelBuilder k, Executions executions) => k.AddWorkflow<string, string>("research", async (ctx, topic) =>
    {
        var parts = new List<string>();
        foreach (var step in new[] { "plan", "search", "summarize", "review" })
        {
            parts.Add(await ctx.StepAsync(step, _ =>
            {
                executions.Add(step);
                return Task.FromResult($"{step}({topic})");
            }));
        }
        return string.Join(" > ", parts);
    });

    public static TheoryData<int> Positions => new() { 1, 2, 3, 4, 5 };

    [Theory]
    [MemberData(nameof(Positions))]
    public async Task AFork_ReusesExactlyThePrefix_AndRunsTheRestLive(int at)
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions));
        var source = (await keel.Client.StartAsync("research", "keel", cancellationToken: TestHost.Token)).RunId;
        var expected = await keel.Client.GetResultAsync<string>(source, TestHost.Token);

        var fork = await keel.Client.ForkAsync(source, new ForkOptions { AtPosition = at, By = "ada", Reason = "try again" }, TestHost.Token);

        Assert.Equal(expected, await keel.Client.GetResultAsync<string>(fork.RunId, TestHost.Token));
        var steps = new[] { "plan", "search", "summarize", "review" };
        for (var i = 0; i < steps.Length; i++)
        {
            Assert.Equal(i + 1 >= at ? 2 : 1, executions[steps[i]]); // before the position: reused; from it: run again
        }
        var forkHistory = (await keel.Client.GetHistoryAsync(fork.RunId, TestHost.Token))!;
        var from = Assert.Single(forkHistory.Events, e => e.Kind == RunEventKind.ForkedFrom);
        Assert.Equal(source, from.RunId);
        Assert.Equal("ada", from.By);
        var sourceHistory = (await keel.Client.GetHistoryAsync(source, TestHost.Token))!;
        Assert.Equal(fork.RunId, Assert.Single(sourceHistory.Events, e => e.Kind == RunEventKind.ForkedTo).RunId);
        Assert.Equal(RunStatus.Completed, (await keel.Client.GetRunAsync(source, TestHost.Token))!.Status); // the source is not changed
    }

    [Fact]
    public async Task AReplacedResult_IsTakenWithoutRunningTheBody_AndTheRunDivergesAfterIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions));
        var source = (await keel.Client.StartAsync("research", "keel", cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<string>(source, TestHost.Token);

        var fork = await keel.Client.ForkAsync(source, new ForkOptions { AtPosition = 2, ReplaceResultJson = "\"search(corrected)\"", RunId = "corrected" }, TestHost.Token);

        Assert.Equal("corrected", fork.RunId);
        Assert.Equal("plan(keel) > search(corrected) > summarize(keel) > review(keel)", await keel.Client.GetResultAsync<string>("corrected", TestHost.Token));
        Assert.Equal((1, 1, 2, 2), (executions["plan"], executions["search"], executions["summarize"], executions["review"]));
    }

    [Fact]
    public async Task BadForks_AreRefused_SayingWhy()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions));
        var source = (await keel.Client.StartAsync("research", "keel", cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<string>(source, TestHost.Token);

        var outOfRange = await Assert.ThrowsAsync<ArgumentException>(() => keel.Client.ForkAsync(source, new ForkOptions { AtPosition = 9 }, TestHost.Token));
        Assert.Contains("has positions 1 to 4", outOfRange.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => keel.Client.ForkAsync(source, new ForkOptions { AtPosition = 2, ReplaceResultJson = "{not json" }, TestHost.Token));
        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.ForkAsync("nobody", new ForkOptions { AtPosition = 1 }, TestHost.Token));
        await keel.Client.ForkAsync(source, new ForkOptions { AtPosition = 1, RunId = "taken" }, TestHost.Token);
        await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => keel.Client.ForkAsync(source, new ForkOptions { AtPosition = 1, RunId = "taken" }, TestHost.Token));
    }
}
