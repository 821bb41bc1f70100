namespace Keel.Tests.Engine;

public class EffectTests
{
    /// <summary>A send that records its effect, then hangs until the worker stops: a crash mid-body, after the effect.</summary>
    private static void RegisterInvoice(KeelBuilder k, Executions executions, TaskCompletionSource? hang, StepOptions? options = null) =>
        k.AddWorkflow<int, string>("invoice", async (ctx, amount) =>
        {
            var sent = await ctx.StepAsync("send-invoice", async sc =>
            {
                executions.Add("send-invoice");
                if (hang is not null && executions["send-invoice"] == 1)
                {
                    await hang.Task.WaitAsync(sc.CancellationToken);
                }
                return $"invoice {amount} sent (attempt {sc.Attempt})";
            }, options ?? new StepOptions { Effect = StepEffect.AtMostOnce });
            return sent;
        });

    private static async Task<string> InterruptMidBodyAsync(TempDatabase db, Executions executions, StepOptions? options = null)
    {
        var hang = new TaskCompletionSource();
        await using var keel = await TestHost.StartAsync(db, k => RegisterInvoice(k, executions, hang, options));
        var runId = (await keel.Client.StartAsync("invoice", 42, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["send-invoice"] == 1), "the body ran");
        return runId; // disposing the host stops the worker: the hanging body is cancelled, its outcome never recorded
    }

    [Fact]
    public async Task AtMostOnce_InterruptedBody_IsNotRunAgain_TheRunNeedsAttention_AndRetryResolvesIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await InterruptMidBodyAsync(db, executions);

        await using var keel = await TestHost.StartAsync(db, k => RegisterInvoice(k, executions, null));
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.NeedsAttention, "the run needs attention");
        var run = await keel.Client.GetRunAsync(runId, TestHost.Token);
        Assert.Contains("Outcome unknown: the process stopped while 'send-invoice' was running (attempt 1", run!.StatusReason, StringComparison.Ordinal);
        Assert.Null(run.Owner);
        await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, TestHost.Token);
        Assert.Equal(1, executions["send-invoice"]); // not run again on its own

        Assert.Equal("send-invoice", await keel.Client.ResolveAsync(runId, StepResolution.Retry("alice", "the mail server shows no such invoice"), TestHost.Token));
        Assert.Equal("invoice 42 sent (attempt 2)", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        Assert.Equal(2, executions["send-invoice"]);
        var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
        Assert.Equal(
            [JournalEntryKind.StepStarted, JournalEntryKind.StepNeedsAttention, JournalEntryKind.StepResolved, JournalEntryKind.StepStarted, JournalEntryKind.StepCompleted],
            journal.Where(e => e.Name == "send-invoice").Select(e => e.Kind));
        Assert.Contains("\"by\":\"alice\"", journal.Single(e => e.Kind == JournalEntryKind.StepResolved).Payload, StringComparison.Ordinal);
        Assert.Null((await keel.Client.GetRunAsync(runId, TestHost.Token))!.StatusReason);
    }

    [Fact]
    public async Task AtMostOnce_ResolvedAsCompleted_OrFailed_NeverRunsTheBodyAgain()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var completed = await InterruptMidBodyAsync(db, executions);
        var failedExecutions = new Executions();
        var failed = await InterruptMidBodyAsync(db, failedExecutions);

        await using var keel = await TestHost.StartAsync(db, k => RegisterInvoice(k, executions, null));
        foreach (var runId in new[] { completed, failed })
        {
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.NeedsAttention, "the run needs attention");
        }
        await Assert.ThrowsAsync<ArgumentException>(() => keel.Client.ResolveAsync(completed, StepResolution.CompleteWith("{not json"), TestHost.Token));
        await keel.Client.ResolveAsync(completed, StepResolution.CompleteWith("\"invoice 42 sent (checked by hand)\"", "bob"), TestHost.Token);
        await keel.Client.ResolveAsync(failed, StepResolution.Fail("customer cancelled the order", "bob"), TestHost.Token);

        Assert.Equal("invoice 42 sent (checked by hand)", await keel.Client.GetResultAsync<string>(completed, TestHost.Token));
        var failedRun = await keel.Client.WaitForCompletionAsync(failed, TestHost.Token);
        Assert.Equal(RunStatus.Failed, failedRun.Status);
        Assert.Contains("resolved as failed by bob: customer cancelled the order", failedRun.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1, executions["send-invoice"]);
        Assert.Equal(1, failedExecutions["send-invoice"]);
        await Assert.ThrowsAsync<RunFinishedException>(() => keel.Client.ResolveAsync(completed, StepResolution.Retry(), TestHost.Token));
    }

    [Fact]
    public async Task AtMostOnce_OutcomeCheck_SettlesTheUnknownWithoutAPerson()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var sentOutbox = new HashSet<string>(); // the "mail server": what it actually sent, by idempotency key
        var options = new StepOptions
        {
            Effect = StepEffect.AtMostOnce,
            CheckUnknownOutcome = sc => Task.FromResult(sentOutbox.Contains(sc.IdempotencyKey)
                ? UnknownOutcomeCheck.Happened("invoice 42 sent (found in the outbox)")
                : UnknownOutcomeCheck.DidNotHappen()),
        };
        var hang = new TaskCompletionSource();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("invoice", (ctx, _) => ctx.StepAsync("send-invoice", async sc =>
        {
            executions.Add("send-invoice");
            sentOutbox.Add(sc.IdempotencyKey);
            await hang.Task.WaitAsync(sc.CancellationToken);
            return "never";
        }, options))))
        {
            runId = (await keel.Client.StartAsync("invoice", 42, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["send-invoice"] == 1), "the body ran");
        }
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("invoice", (ctx, _) => ctx.StepAsync("send-invoice", sc =>
        {
            executions.Add("send-invoice");
            return Task.FromResult("sent again");
        }, options))))
        {
            Assert.Equal("invoice 42 sent (found in the outbox)", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        Assert.Equal(1, executions["send-invoice"]);
    }

    [Fact]
    public async Task Idempotent_KeyIsTheSameOnEveryAttemptAndRecovery_AndMayBeGiven()
    {
        using var db = new TempDatabase();
        var keys = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("charge", async (ctx, _) =>
        {
            var derived = await ctx.StepAsync("charge", sc =>
            {
                keys.Enqueue(sc.IdempotencyKey);
                return sc.Attempt < 3 ? throw new RetryableStepException("gateway busy", TimeSpan.FromMilliseconds(10)) : Task.FromResult(1);
            }, new StepOptions { Effect = StepEffect.Idempotent });
            var given = await ctx.StepAsync("refund", sc =>
            {
                keys.Enqueue(sc.IdempotencyKey);
                return Task.FromResult(2);
            }, new StepOptions { Effect = StepEffect.Idempotent, IdempotencyKey = $"refund-{ctx.RunId}" });
            return derived + given;
        }));
        var runId = (await keel.Client.StartAsync("charge", 0, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(3, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
        Assert.Equal([$"{runId}/charge", $"{runId}/charge", $"{runId}/charge", $"refund-{runId}"], keys);
    }

    [Fact]
    public async Task Guard_NotHolding_StopsTheBody_AndNamesTheMissingPrecondition()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<bool, string>("refund", async (ctx, verify) =>
        {
            if (verify)
            {
                await ctx.StepAsync("verify-identity", _ => Task.FromResult(true));
            }
            return await ctx.StepAsync("issue-refund", _ =>
            {
                executions.Add("issue-refund");
                return Task.FromResult("refunded");
            }, new StepOptions { Requires = [StepGuard.StepCompleted("verify-identity")] });
        }));
        var verified = (await keel.Client.StartAsync("refund", true, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal("refunded", await keel.Client.GetResultAsync<string>(verified, TestHost.Token));

        var skipped = (await keel.Client.StartAsync("refund", false, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(skipped, TestHost.Token))!.Status == RunStatus.NeedsAttention, "the run needs attention");
        var run = await keel.Client.GetRunAsync(skipped, TestHost.Token);
        Assert.Contains("Precondition not met for step 'issue-refund': step 'verify-identity' completed earlier in this run", run!.StatusReason, StringComparison.Ordinal);
        Assert.Equal(1, executions["issue-refund"]);

        await keel.Client.ResolveAsync(skipped, StepResolution.Retry("carol", "verified by phone"), TestHost.Token);
        Assert.Equal("refunded", await keel.Client.GetResultAsync<string>(skipped, TestHost.Token));
        Assert.Equal(2, executions["issue-refund"]);
        await Assert.ThrowsAsync<RunFinishedException>(() => keel.Client.ResolveAsync(skipped, StepResolution.Retry(), TestHost.Token));
        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.ResolveAsync("missing", StepResolution.Retry(), TestHost.Token));
    }

    [Fact]
    public async Task Cancellation_FiresTheStepToken_RunsCleanupInANonCancellableScope_AndEndsCancelled()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var sawCancel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("long", async (ctx, _) =>
        {
            try
            {
                return await ctx.StepAsync("work", async sc =>
                {
                    executions.Add("work");
                    try
                    {
                        await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        sawCancel.TrySetResult();
                        throw;
                    }
                    return "done";
                });
            }
            catch (OperationCanceledException)
            {
                using (ctx.NonCancellable())
                {
                    await ctx.StepAsync("release-lock", _ =>
                    {
                        executions.Add("release-lock");
                        return Task.FromResult(true);
                    });
                }
                throw;
            }
        }));
        var runId = (await keel.Client.StartAsync("long", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["work"] == 1), "the step runs");
        await keel.Client.CancelAsync(runId, "no longer needed", TestHost.Token);

        var run = await keel.Client.WaitForCompletionAsync(runId, TestHost.Token);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        await sawCancel.Task.WaitAsync(TimeSpan.FromSeconds(5), TestHost.Token);
        Assert.Equal(1, executions["release-lock"]);
        Assert.Contains(await keel.Client.GetJournalAsync(runId, TestHost.Token), e => e.Kind == JournalEntryKind.StepCompleted && e.Name == "release-lock");
    }

    [Fact]
    public async Task ParallelSteps_RespectTheRunsLimitOnBodiesAtOnce()
    {
        using var db = new TempDatabase();
        var running = 0;
        var peak = 0;
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("fan-out", async (ctx, n) =>
        {
            var branches = Enumerable.Range(1, n).Select(i => ctx.StepAsync($"branch-{i}", async _ =>
            {
                var now = Interlocked.Increment(ref running);
                int seen;
                while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }
                await Task.Delay(TimeSpan.FromMilliseconds(30), TimeProvider.System);
                Interlocked.Decrement(ref running);
                return i;
            })).ToList();
            return (await Task.WhenAll(branches)).Sum();
        }), options: o => o.MaxParallelStepsPerRun = 2);
        var runId = (await keel.Client.StartAsync("fan-out", 8, cancellationToken: TestHost.Token)).RunId;
        Assert.Equal(36, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task NeedsAttentionRun_KeepsItsOtherWaitsDueTimes()
    {
        using var db = new TempDatabase();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("guarded-and-timed", async (ctx, _) =>
        {
            var guarded = ctx.StepAsync("wire", _ => Task.FromResult("wired"), new StepOptions { Requires = [StepGuard.ApprovalGranted("wire")] });
            await ctx.SleepAsync(TimeSpan.FromHours(1), "reminder");
            await ctx.StepAsync("send-reminder", _ => Task.FromResult(true));
            return await guarded;
        }), time);
        var runId = (await keel.Client.StartAsync("guarded-and-timed", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token)) is { Status: RunStatus.NeedsAttention, Owner: null },
            "the run needs attention, released");
        time.Advance(TimeSpan.FromHours(1));
        // The timer of the other branch fires although the run needs attention; it goes back to waiting for the person.
        await TestHost.WaitForJournalAsync(keel.Client, runId, j => j.Any(e => e.Kind == JournalEntryKind.StepCompleted && e.Name == "send-reminder"), "the reminder is sent");
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token)) is { Status: RunStatus.NeedsAttention, Owner: null },
            "it needs attention again, released");
        await keel.Client.ResolveAsync(runId, StepResolution.Retry("ops"), TestHost.Token);
        Assert.Equal("wired", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
    }
}
