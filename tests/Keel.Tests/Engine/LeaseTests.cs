using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Keel.Tests.Engine;

public class LeaseTests
{
    [Fact]
    public async Task WorkerWhoseLeaseMayHaveLapsed_StartsNoNewStepBody_AndHandsTheRunBack()
    {
        using var db = new TempDatabase();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new CapturedLogs();
        var executions = new Executions();
        var secondRuns = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await KeelHost.StartAsync(k => k
            .UseSqlite(db.Path, o => o.Durability = Sqlite.SqliteDurability.Normal)
            .Configure(o =>
            {
                // Renewals (paced in real time) do not come before the test ends: the lease is what the claim gave.
                o.LeaseDuration = TimeSpan.FromSeconds(10);
                o.LeaseRenewInterval = TimeSpan.FromSeconds(9);
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            })
            .AddWorkflow<int, int>("two-steps", async (ctx, _) =>
            {
                await ctx.StepAsync("first", async _ =>
                {
                    executions.Add("first");
                    await gate.Task;
                    return 1;
                });
                return await ctx.StepAsync("second", _ =>
                {
                    Interlocked.Increment(ref secondRuns);
                    return Task.FromResult(2);
                });
            }), services => services.AddSingleton<TimeProvider>(time).AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)), TestHost.Token);
        var runId = (await keel.Client.StartAsync("two-steps", 0, cancellationToken: TestHost.Token)).RunId;
        await TestHost.EventuallyAsync(() => Task.FromResult(executions["first"] == 1), "the first step runs");

        // The process was stopped (or its renewals failed) past its lease, less the margin: another worker may own the run.
        time.Advance(TimeSpan.FromSeconds(9));
        gate.SetResult();

        Assert.Equal(2, await keel.Client.GetResultAsync<int>(runId, TestHost.Token));
        var entries = logs.Entries;
        var lapsed = entries.FindIndex(e => e.Id == KeelEventId.LeaseMayHaveLapsed && e.Message.Contains(runId, StringComparison.Ordinal));
        Assert.True(lapsed >= 0, "the worker noticed its lease may have lapsed");
        // 'second' ran once, under the lease of a later claim: the stale holder handed the run back instead of starting it.
        Assert.Equal(1, secondRuns);
        var executions2 = entries.Select((e, i) => (e, i)).Where(x => x.e.Id == KeelEventId.RunClaimed && x.e.Message.Contains(runId, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, executions2.Count);
        Assert.True(executions2[1].i > lapsed);
        var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
        Assert.Equal(["first", "second", "two-steps"], TestHost.WithoutHolders(journal).Select(e => e.Name));
    }

    [Fact]
    public async Task RenewalsWhileManyShortRunsComeAndGo_ReportNoLostLeaseAndNeverFail()
    {
        using var db = new TempDatabase();
        var logs = new CapturedLogs();
        await using var keel = await KeelHost.StartAsync(k => k
            .UseSqlite(db.Path, o => o.Durability = Sqlite.SqliteDurability.Normal)
            .Configure(o =>
            {
                o.LeaseDuration = TimeSpan.FromSeconds(2);
                o.LeaseRenewInterval = TimeSpan.FromMilliseconds(5); // a renewal pass in flight whenever a run ends
            })
            .AddWorkflow<int, int>("short", async (ctx, n) => await ctx.StepAsync("one", async _ =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(n % 7), TimeProvider.System);
                return n;
            })), services => services.AddLogging(b => b.AddProvider(logs)), TestHost.Token);
        for (var round = 0; round < 10; round++)
        {
            var runs = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => keel.Client.StartAsync("short", i, cancellationToken: TestHost.Token)));
            foreach (var run in runs)
            {
                await keel.Client.WaitForCompletionAsync(run.RunId, TestHost.Token);
            }
        }
        // One worker: nobody else can take a lease, so any "lost" is false, and a failed pass left other runs unrenewed.
        Assert.DoesNotContain(logs.Entries, e => e.Id == KeelEventId.LeaseLost);
        Assert.DoesNotContain(logs.Entries, e => e.Id == KeelEventId.WorkerLoopError);
    }

    private sealed record LogEntry(int Id, LogLevel Level, string Message);

    /// <summary>Keeps every log entry of the host, in order.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<LogEntry> _entries = new();

        public List<LogEntry> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(_entries);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(eventId.Id, logLevel, formatter(state, exception)));
        }
    }
}
