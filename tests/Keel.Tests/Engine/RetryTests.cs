using Microsoft.Extensions.Time.Testing;

namespace Keel.Tests.Engine;

public class RetryTests
{
    private static readonly RetryPolicy Fast = new() { MaxAttempts = 4, InitialDelay = TimeSpan.FromMilliseconds(10), BackoffCoefficient = 2 };

    [Fact]
    public async Task Retry_SucceedsOnThirdAttempt_BodySeesAttemptAndPreviousFailures()
    {
        using var db = new TempDatabase();
        var seen = new List<(int Attempt, string[] Previous)>();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("flaky", async (ctx, _) =>
            await ctx.StepAsync("fetch", sc =>
            {
                lock (seen)
                {
                    seen.Add((sc.Attempt, sc.PreviousFailures.Select(f => $"{f.Attempt}:{f.Error.Type}:{f.Error.Message}").ToArray()));
                }
                return sc.Attempt switch
                {
                    1 => throw new InvalidOperationException("rate limited"),
                    2 => throw new TimeoutException("too slow with 50 rows"),
                    _ => Task.FromResult(sc.PreviousFailures[^1].Error.Message.Contains("50 rows", StringComparison.Ordinal) ? "20 rows" : "50 rows"),
                };
            }, new StepOptions { Retry = Fast })));

        var run = await keel.Client.StartAsync("flaky", 0, cancellationToken: TestHost.Token);
        Assert.Equal("20 rows", await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token));
        Assert.Equal([1, 2, 3], seen.Select(s => s.Attempt));
        Assert.Empty(seen[0].Previous);
        Assert.Equal(["1:System.InvalidOperationException:rate limited"], seen[1].Previous);
        Assert.Equal(["1:System.InvalidOperationException:rate limited", "2:System.TimeoutException:too slow with 50 rows"], seen[2].Previous);

        var journal = await keel.Client.GetJournalAsync(run.RunId, TestHost.Token);
        var failures = journal.Where(e => e.Kind == JournalEntryKind.StepAttemptFailed).ToList();
        Assert.Equal([1, 2], failures.Select(f => f.Attempt));
        Assert.All(failures, f =>
        {
            Assert.NotNull(f.StartedAt);
            Assert.True(f.RetryAt > f.RecordedAt);
            Assert.False(string.IsNullOrEmpty(f.Error!.StackTrace));
        });
        Assert.Equal(3, journal.Single(e => e.Kind == JournalEntryKind.StepCompleted).Attempt);
    }

    [Fact]
    public async Task Retry_AttemptsExhausted_WorkflowCanCatchStepFailed()
    {
        using var db = new TempDatabase();
        var attempts = 0;
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("exhaust", async (ctx, _) =>
        {
            try
            {
                await ctx.StepAsync<int>("always-fails", _ =>
                {
                    Interlocked.Increment(ref attempts);
                    throw new InvalidOperationException("nope");
                }, new StepOptions { Retry = Fast with { MaxAttempts = 3 } });
                return "unreachable";
            }
            catch (StepFailedException ex)
            {
                return $"{ex.StepName}:{ex.Attempts}:{ex.Error.Type}";
            }
        }));
        var run = await keel.Client.StartAsync("exhaust", 0, cancellationToken: TestHost.Token);
        Assert.Equal("always-fails:3:System.InvalidOperationException", await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token));
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Retry_UncaughtStepFailure_FailsRunWithError()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("fails", async (ctx, _) =>
            await ctx.StepAsync<int>("boom", _ => throw new ArgumentException("bad argument"), new StepOptions { Retry = RetryPolicy.None })));
        var run = await keel.Client.StartAsync("fails", 0, cancellationToken: TestHost.Token);
        var ended = await keel.Client.WaitForCompletionAsync(run.RunId, TestHost.Token);
        Assert.Equal(RunStatus.Failed, ended.Status);
        Assert.Equal(typeof(ArgumentException).FullName, ended.Error!.Type);
        Assert.Contains("bad argument", ended.Error.Message, StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<WorkflowFailedException>(() => keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token));
        Assert.Equal(RunStatus.Failed, ex.Run.Status);
    }

    [Fact]
    public async Task Retry_TerminalAndNonRetryableTypes_AreNotRetried()
    {
        using var db = new TempDatabase();
        var calls = new Executions();
        var policy = Fast with { NonRetryableExceptionTypes = [typeof(UnauthorizedAccessException)] };
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("terminal", async (ctx, _) =>
        {
            var outcomes = new List<string>();
            foreach (var (name, ex) in new (string, Exception)[]
            {
                ("terminal", new TerminalStepException("card declined")),
                ("non-retryable", new UnauthorizedAccessException("no access")),
            })
            {
                try
                {
                    await ctx.StepAsync<int>(name, _ =>
                    {
                        calls.Add(name);
                        throw ex;
                    }, new StepOptions { Retry = policy });
                }
                catch (StepFailedException failed)
                {
                    outcomes.Add($"{failed.Attempts}:{failed.Error.IsTerminal}");
                }
            }
            return string.Join(",", outcomes);
        }));
        var run = await keel.Client.StartAsync("terminal", 0, cancellationToken: TestHost.Token);
        Assert.Equal("1:True,1:True", await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token));
        Assert.Equal(1, calls["terminal"]);
        Assert.Equal(1, calls["non-retryable"]);
    }

    [Fact]
    public async Task Retry_AttemptTimeout_CancelsBodyTokenAndRetries()
    {
        using var db = new TempDatabase();
        var cancelled = 0;
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("timeout", async (ctx, _) =>
            await ctx.StepAsync("slow", async sc =>
            {
                if (sc.Attempt == 1)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(30), TimeProvider.System, sc.CancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        Interlocked.Increment(ref cancelled);
                        throw;
                    }
                }
                return sc.Attempt;
            }, new StepOptions { Retry = Fast with { AttemptTimeout = TimeSpan.FromMilliseconds(200) } })));
        var run = await keel.Client.StartAsync("timeout", 0, cancellationToken: TestHost.Token);
        Assert.Equal(2, await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token));
        await TestHost.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref cancelled) == 1), "the timed-out body saw its token fire");
        var failure = (await keel.Client.GetJournalAsync(run.RunId, TestHost.Token)).Single(e => e.Kind == JournalEntryKind.StepAttemptFailed);
        Assert.Equal(typeof(TimeoutException).FullName, failure.Error!.Type);
        Assert.Contains("timed out", failure.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_RetryableStepException_UsesItsDelay()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("retry-after", async (ctx, _) =>
            await ctx.StepAsync("limited", sc => sc.Attempt == 1
                ? throw new RetryableStepException("429", TimeSpan.FromMilliseconds(700))
                : Task.FromResult(sc.Attempt), new StepOptions { Retry = Fast })));
        var run = await keel.Client.StartAsync("retry-after", 0, cancellationToken: TestHost.Token);
        await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token);
        var failure = (await keel.Client.GetJournalAsync(run.RunId, TestHost.Token)).Single(e => e.Kind == JournalEntryKind.StepAttemptFailed);
        Assert.Equal(TimeSpan.FromMilliseconds(700), failure.RetryAt - failure.RecordedAt);
    }

    [Fact]
    public void DelayAfter_BacksOffExponentiallyUpToMax()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1), BackoffCoefficient = 3, MaxDelay = TimeSpan.FromSeconds(20) };
        Assert.Equal([1.0, 3, 9, 20, 20], Enumerable.Range(1, 5).Select(n => policy.DelayAfter(n).TotalSeconds));
    }

    [Fact]
    public async Task Backoff_IsDurable_RestartNeitherResetsTheDelayNorTheAttemptCount()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var attempts = new List<(int Attempt, int Previous, DateTimeOffset At)>();
        var policy = new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(2) };
        void Register(KeelBuilder k) => k.AddWorkflow<int, int>("backoff", async (ctx, _) =>
            await ctx.StepAsync("call", sc =>
            {
                lock (attempts)
                {
                    attempts.Add((sc.Attempt, sc.PreviousFailures.Count, time.GetUtcNow()));
                }
                return sc.Attempt < 2 ? throw new InvalidOperationException("down") : Task.FromResult(sc.Attempt);
            }, new StepOptions { Retry = policy }));

        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register, time))
        {
            runId = (await keel.Client.StartAsync("backoff", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.WaitForJournalAsync(keel.Client, runId, j => j.Any(e => e.Kind == JournalEntryKind.StepAttemptFailed), "attempt 1 fails");
        }

        time.Advance(TimeSpan.FromMinutes(40));
        await using (var keel = await TestHost.StartAsync(db, Register, time))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, TestHost.Token);
            lock (attempts)
            {
                Assert.Single(attempts); // 40 of 60 minutes passed: the restart did not run attempt 2 early
            }
            time.Advance(TimeSpan.FromMinutes(21));
            Assert.Equal(2, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
        }
        Assert.Equal([(1, 0), (2, 1)], attempts.Select(a => (a.Attempt, a.Previous)));
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task LongBackoff_ReleasesTheRunFromMemoryUntilItIsDue()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var policy = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMinutes(10), MaxDelay = TimeSpan.FromHours(1) };
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("sleepy", async (ctx, _) =>
            await ctx.StepAsync("call", sc => sc.Attempt == 1 ? throw new InvalidOperationException("down") : Task.FromResult(sc.Attempt),
                new StepOptions { Retry = policy })), time);
        var run = await keel.Client.StartAsync("sleepy", 0, cancellationToken: TestHost.Token);
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(run.RunId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");
        var waiting = await keel.Client.GetRunAsync(run.RunId, TestHost.Token);
        Assert.Null(waiting!.Owner);
        await TestHost.EventuallyAsync(() => Task.FromResult(keel.Worker!.ActiveRuns == 0), "the worker holds no run");
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(2, await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token));
    }
}
