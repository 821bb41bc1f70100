namespace Keel.Cli.Tests;

/// <summary>Prepares databases with real runs, through a real KeelHost.</summary>
internal static class TestRuns
{
    public const string Add = "add";
    public const string Flaky = "flaky";
    public const string Doomed = "doomed";

    /// <summary>Runs <paramref name="runIds"/> of workflow "add" (two steps) to completion, one after the other.</summary>
    public static async Task CompleteAsync(string databasePath, params string[] runIds)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await StartHostAsync(databasePath);
        foreach (var runId in runIds)
        {
            await keel.Client.StartAsync(Add, 1, new StartWorkflowOptions { RunId = runId }, ct);
            await keel.Client.WaitForCompletionAsync(runId, ct);
        }
    }

    /// <summary>Runs workflow "flaky": its step fails once (rate limited), then succeeds.</summary>
    public static async Task CompleteFlakyAsync(string databasePath, string runId)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await StartHostAsync(databasePath);
        await keel.Client.StartAsync(Flaky, "x", new StartWorkflowOptions { RunId = runId }, ct);
        var run = await keel.Client.WaitForCompletionAsync(runId, ct);
        Assert.Equal(RunStatus.Completed, run.Status);
    }

    /// <summary>Runs workflow "doomed": its step fails for good at once, so the run ends Failed.</summary>
    public static async Task FailAsync(string databasePath, string runId)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await StartHostAsync(databasePath);
        await keel.Client.StartAsync(Doomed, "4242", new StartWorkflowOptions { RunId = runId }, ct);
        var run = await keel.Client.WaitForCompletionAsync(runId, ct);
        Assert.Equal(RunStatus.Failed, run.Status);
    }

    /// <summary>Creates runs that no worker picks up (they stay Pending).</summary>
    public static async Task CreatePendingAsync(string databasePath, params string[] runIds)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(databasePath);
            k.RunWorker = false;
        }, cancellationToken: ct);
        // A client without workflows, as the CLI has: the host's own client only starts workflows it registered.
        var client = KeelClient.Create(keel.Store);
        foreach (var runId in runIds)
        {
            await client.StartAsync(Add, 1, new StartWorkflowOptions { RunId = runId, AllowUnknownWorkflow = true }, ct);
        }
    }

    /// <summary>A run's history, read with a client that runs no worker.</summary>
    public static async Task<RunHistory> GetHistoryAsync(string databasePath, string runId)
    {
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(databasePath);
            k.RunWorker = false;
        }, cancellationToken: TestContext.Current.CancellationToken);
        return (await keel.Client.GetHistoryAsync(runId, TestContext.Current.CancellationToken))!;
    }

    public static async Task<RunInfo?> GetRunAsync(string databasePath, string runId)
    {
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(databasePath);
            k.RunWorker = false;
        }, cancellationToken: TestContext.Current.CancellationToken);
        return await keel.Client.GetRunAsync(runId, TestContext.Current.CancellationToken);
    }

    /// <summary>Waits (real time, at most 15 s) until the condition holds; fails the test otherwise.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Environment.TickCount64 + 15_000;
        while (!await condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"timed out waiting until {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, TestContext.Current.CancellationToken);
        }
    }

    public static Task<KeelHost> StartHostAsync(string databasePath, Action<KeelBuilder>? more = null) =>
        KeelHost.StartAsync(k =>
        {
            k.UseSqlite(databasePath)
                .AddWorkflow<int, int>(Add, async (ctx, n) =>
                {
                    var a = await ctx.StepAsync("one", _ => Task.FromResult(n + 1));
                    return await ctx.StepAsync("two", _ => Task.FromResult(a * 2));
                })
                .AddWorkflow<string, string>(Flaky, (ctx, s) => ctx.StepAsync("call-api", step => step.Attempt == 1
                        ? throw new RetryableStepException("rate limited (429)", TimeSpan.FromMilliseconds(50))
                        : Task.FromResult($"{s} on attempt {step.Attempt}")))
                .AddWorkflow<string, string>(Doomed, (ctx, s) => ctx.StepAsync<string>("charge-card",
                    _ => throw new TerminalStepException($"card {s} declined")))
                .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
            more?.Invoke(k);
        }, cancellationToken: TestContext.Current.CancellationToken);
}
