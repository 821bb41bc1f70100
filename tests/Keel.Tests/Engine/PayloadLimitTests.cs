namespace Keel.Tests.Engine;

public class PayloadLimitTests
{
    private static void SmallLimits(KeelOptions o)
    {
        o.Limits.MaxRunInputBytes = 1000;
        o.Limits.MaxSignalPayloadBytes = 1000;
        o.Limits.MaxApprovalArgumentsBytes = 1000;
        o.Limits.MaxResultBytes = 1000;
        o.Limits.MaxErrorMessageLength = 100;
    }

    [Fact]
    public async Task InputsAndPayloadsOverTheirLimit_AreRefusedAtTheClient_NamingWhatAndHowLarge_AndStoreNothing()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<string, string>("echo", async (ctx, s) =>
            await ctx.WaitForSignalAsync<string>("go") + s), options: SmallLimits);
        var big = new string('x', 2000);

        var input = await Assert.ThrowsAsync<PayloadTooLargeException>(() => keel.Client.StartAsync("echo", big, new StartWorkflowOptions { RunId = "big" }, TestHost.Token));
        Assert.Contains("input of run 'big' of workflow 'echo' is 2,002 bytes; the limit is 1,000 bytes (KeelOptions.Limits.MaxRunInputBytes)", input.Message, StringComparison.Ordinal);
        Assert.Null(await keel.Client.GetRunAsync("big", TestHost.Token));

        var runId = (await keel.Client.StartAsync("echo", "!", cancellationToken: TestHost.Token)).RunId;
        var signal = await Assert.ThrowsAsync<PayloadTooLargeException>(() => keel.Client.SignalAsync(runId, "go", big, TestHost.Token));
        Assert.Contains($"payload of signal 'go' to run '{runId}'", signal.Message, StringComparison.Ordinal);
        Assert.Equal((2002L, 1000L), (signal.Size, signal.Limit));
        Assert.Empty(await db.InboxAsync(runId));
        await keel.Client.SignalAsync(runId, "go", "ok", TestHost.Token);
        Assert.Equal("ok!", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
    }

    [Fact]
    public async Task StepResultOverTheLimit_FailsTheStepForGoodAtOnce_AndAnOverlargeRunResultFailsTheRun()
    {
        using var db = new TempDatabase();
        var attempts = 0;
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, string>("bloated-step", async (ctx, n) =>
            {
                try
                {
                    return await ctx.StepAsync("fetch", _ =>
                    {
                        Interlocked.Increment(ref attempts);
                        return Task.FromResult(new string('y', n));
                    }, new StepOptions { Retry = new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.FromMilliseconds(10) } });
                }
                catch (StepFailedException ex)
                {
                    return $"caught: {ex.Error.Type}";
                }
            })
            .AddWorkflow<int, string>("bloated-result", (_, n) => Task.FromResult(new string('z', n)))
            .AddWorkflow<int, string>("loud-failure", (_, n) => throw new InvalidOperationException(new string('e', n))), options: SmallLimits);

        Assert.Equal($"caught: {typeof(PayloadTooLargeException).FullName}", await keel.Client.GetResultAsync<string>(
            (await keel.Client.StartAsync("bloated-step", 2000, cancellationToken: TestHost.Token)).RunId, TestHost.Token));
        Assert.Equal(1, attempts); // not retried: the next attempt's result would be as large

        var result = await keel.Client.WaitForCompletionAsync((await keel.Client.StartAsync("bloated-result", 2000, cancellationToken: TestHost.Token)).RunId, TestHost.Token);
        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("result of run", result.Error!.Message, StringComparison.Ordinal);
        Assert.Null(result.Result);

        var loud = await keel.Client.WaitForCompletionAsync((await keel.Client.StartAsync("loud-failure", 5000, cancellationToken: TestHost.Token)).RunId, TestHost.Token);
        Assert.Equal(RunStatus.Failed, loud.Status);
        Assert.True(loud.Error!.Message.Length < 200);
        Assert.Contains("(cut: 5,000 characters in all)", loud.Error.Message, StringComparison.Ordinal);
    }
}
