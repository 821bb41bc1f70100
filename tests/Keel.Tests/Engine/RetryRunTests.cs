namespace Keel.Tests.Engine;

/// <summary>A Failed run is retried: it continues from the step whose failure ended it, never started over.</summary>
public class RetryRunTests
{
    private static readonly StepOptions TwoAttempts = new() { Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(1) } };

    /// <summary>Reserve, charge (declined while <paramref name="declined"/> says so), ship; a declined charge is compensated
    /// (release) before the run fails.</summary>
    private static void RegisterOrder(KeelBuilder k, Executions executions, Func<bool> declined, StepOptions chargeOptions) =>
        k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            await ctx.StepAsync("reserve", _ =>
            {
                executions.Add("reserve");
                return Task.FromResult(1);
            });
            try
            {
                await ctx.StepAsync("charge", _ =>
                {
                    executions.Add("charge");
                    return declined() ? throw new InvalidOperationException("card declined") : Task.FromResult(2);
                }, chargeOptions);
            }
            catch (StepFailedException)
            {
                await ctx.StepAsync("release", _ =>
                {
                    executions.Add("release"); // compensation
                    return Task.FromResult(0);
                });
                throw;
            }
            await ctx.StepAsync("ship", _ =>
            {
                executions.Add("ship");
                return Task.FromResult(3);
            });
            return "shipped";
        });

    [Fact]
    public async Task AStepThatFailedForGood_RunsAgainWithAFreshBudget_SeeingItsFailures_AndTheStepsBeforeItDoNot()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var healthy = false;
        var seen = new List<int>();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("pay", async (ctx, _) =>
        {
            var quote = await ctx.StepAsync("quote", _ =>
            {
                executions.Add("quote");
                return Task.FromResult(42);
            });
            return await ctx.StepAsync("charge", sc =>
            {
                executions.Add("charge");
                lock (seen)
                {
                    seen.Add(sc.PreviousFailures.Count);
                }
                return healthy ? Task.FromResult($"charged {quote} on attempt {sc.Attempt}") : throw new InvalidOperationException("gateway 503");
            }, TwoAttempts);
        }));
        var runId = (await keel.Client.StartAsync("pay", 0, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);

        healthy = true;
        await keel.Client.RetryAsync(runId, "ada", "gateway fixed", TestHost.Token);

        Assert.Equal("charged 42 on attempt 3", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal(1, executions["quote"]);
        Assert.Equal(3, executions["charge"]);
        Assert.Equal([0, 1, 2], seen); // the retried attempt sees both earlier failures
        var history = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
        var retry = Assert.Single(history.Decisions, d => d.Kind == DecisionKind.Retry);
        Assert.Equal(("ada", "gateway fixed"), (retry.By, retry.Reason));
        Assert.Equal([RunEventKind.Claimed, RunEventKind.Failed, RunEventKind.Retried, RunEventKind.Claimed, RunEventKind.Completed],
            history.Events.Select(e => e.Kind));
    }

    [Fact]
    public async Task WhatTheRunDidAfterTheFailure_IsSetAside_AndTheCodeGoesOnWhereItWouldHave()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var healthy = false;
        await using var keel = await TestHost.StartAsync(db, k => RegisterOrder(k, executions, () => !healthy, TwoAttempts));
        var runId = (await keel.Client.StartAsync("order", 0, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
        Assert.Equal(1, executions["release"]);

        healthy = true;
        await keel.Client.RetryAsync(runId, cancellationToken: TestHost.Token);

        // 'ship' takes the position 'release' had: no nondeterminism, the compensation is not run again.
        Assert.Equal("shipped", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal((1, 3, 1, 1), (executions["reserve"], executions["charge"], executions["release"], executions["ship"]));
    }

    [Fact]
    public async Task ARunRetriedTwice_SetsAsideEachFailedBranch()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var failures = 2;
        await using var keel = await TestHost.StartAsync(db, k => RegisterOrder(k, executions, () => Volatile.Read(ref failures) > 0,
            new StepOptions { Retry = RetryPolicy.None }));
        var runId = (await keel.Client.StartAsync("order", 0, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
        Interlocked.Decrement(ref failures);
        await keel.Client.RetryAsync(runId, cancellationToken: TestHost.Token);
        await TestHost.EventuallyAsync(async () => executions["release"] == 2 && (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Failed,
            "the retried charge fails again and compensates again");
        Interlocked.Decrement(ref failures);
        await keel.Client.RetryAsync(runId, cancellationToken: TestHost.Token);

        Assert.Equal("shipped", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal((3, 2, 1), (executions["charge"], executions["release"], executions["ship"]));
    }

    [Fact]
    public async Task ARunWhoseCodeThrew_IsReplayedAndItsCodeRunAgain_AndOnlyFailedTopLevelRunsAreRetried()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var fixedCode = false;
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("parse", async (ctx, _) =>
        {
            var raw = await ctx.StepAsync("fetch", _ =>
            {
                executions.Add("fetch");
                return Task.FromResult("12a");
            });
            return fixedCode ? raw.TrimEnd('a') : int.Parse(raw, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }));
        var runId = (await keel.Client.StartAsync("parse", 0, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
        fixedCode = true; // a fix deployed
        await keel.Client.RetryAsync(runId, cancellationToken: TestHost.Token);
        Assert.Equal("12", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal(1, executions["fetch"]);

        await Assert.ThrowsAsync<RunStateException>(() => keel.Client.RetryAsync(runId, cancellationToken: TestHost.Token)); // Completed
        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.RetryAsync("nobody", cancellationToken: TestHost.Token));
    }

    [Fact]
    public async Task ARunThatAFailedChildEnded_RetriesTheChildToo_AndWaitsForItAgain_WithoutRunningItsEarlierStepsAgain()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var declined = true;
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, int>("charge", async (ctx, amount) =>
            {
                await ctx.StepAsync("authorize", _ =>
                {
                    executions.Add("authorize");
                    return Task.FromResult(true);
                });
                return await ctx.StepAsync("capture", _ =>
                {
                    executions.Add("capture");
                    return Volatile.Read(ref declined) ? throw new InvalidOperationException("card declined") : Task.FromResult(amount);
                }, TwoAttempts);
            })
            .AddWorkflow<int, string>("order", async (ctx, amount) =>
            {
                await ctx.StepAsync("reserve", _ =>
                {
                    executions.Add("reserve");
                    return Task.FromResult(1);
                });
                var charged = await ctx.RunChildAsync<int, int>("charge", amount, new StartWorkflowOptions { RunId = $"{ctx.RunId}-charge" });
                return $"charged {charged}";
            }));
        var runId = (await keel.Client.StartAsync("order", 30, cancellationToken: TestHost.Token)).RunId;
        var failed = await keel.Client.WaitForCompletionAsync(runId, TestHost.Token);
        Assert.Equal((RunStatus.Failed, typeof(ChildRunFailedException).FullName), (failed.Status, failed.Error?.Type));
        await Assert.ThrowsAsync<RunStateException>(() => keel.Client.RetryAsync($"{runId}-charge", cancellationToken: TestHost.Token)); // not on its own

        Volatile.Write(ref declined, false); // the card works now
        await keel.Client.RetryAsync(runId, "ops", "card fixed", TestHost.Token);

        Assert.Equal("charged 30", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal(30, await keel.Client.GetResultAsync<int>($"{runId}-charge", TestHost.Token));
        Assert.Equal((1, 1, 3), (executions["reserve"], executions["authorize"], executions["capture"])); // two failed attempts, then one more
        var child = (await keel.Client.GetHistoryAsync($"{runId}-charge", TestHost.Token))!;
        var retry = Assert.Single(child.Decisions, d => d.Kind == DecisionKind.Retry);
        Assert.Contains($"retried with its parent run '{runId}': card fixed", retry.Reason, StringComparison.Ordinal);
    }
}
