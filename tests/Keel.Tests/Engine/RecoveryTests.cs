using Keel.Engine;

namespace Keel.Tests.Engine;

public class RecoveryTests
{
    [Fact]
    public async Task PoisonedRun_ThrowingDuringReplay_IsQuarantinedWhileOthersRecover()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var poisoned = false;
        void Register(KeelBuilder k)
        {
            k.AddWorkflow<int, int>("fragile", async (ctx, _) =>
            {
                if (poisoned && ctx.IsReplaying)
                {
                    throw new InvalidOperationException("configuration missing on this worker");
                }
                await ctx.StepAsync("first", _ => Task.FromResult(1));
                return await ctx.StepAsync("wait", async sc =>
                {
                    executions.Add("fragile-wait");
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                    return 1;
                });
            });
            k.AddWorkflow<int, int>("healthy", async (ctx, n) =>
            {
                await ctx.StepAsync("first", _ => Task.FromResult(1));
                return await ctx.StepAsync("wait", async sc =>
                {
                    executions.Add("healthy-wait");
                    if (!poisoned)
                    {
                        await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                    }
                    return n;
                });
            });
        }

        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            await keel.Client.StartAsync("fragile", 0, new StartWorkflowOptions { RunId = "fragile" }, TestHost.Token);
            await keel.Client.StartAsync("healthy", 5, new StartWorkflowOptions { RunId = "healthy" }, TestHost.Token);
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["fragile-wait"] == 1 && executions["healthy-wait"] == 1), "both runs wait");
        }

        poisoned = true;
        await using (var keel = await TestHost.StartAsync(db, Register, options: o => o.MaxRecoveryAttempts = 2))
        {
            Assert.Equal(5, await keel.Client.GetResultAsync<int>("healthy", TestHost.Token));
            var run = await keel.Client.WaitForCompletionAsync("fragile", TestHost.Token);
            Assert.Equal(RunStatus.Blocked, run.Status);
            Assert.Contains("Quarantined after 2 recoveries", run.StatusReason, StringComparison.Ordinal);
            Assert.Equal(typeof(InvalidOperationException).FullName, run.Error!.Type);
            Assert.Equal("configuration missing on this worker", run.Error.Message);
        }
        Assert.Equal(1, executions["fragile-wait"]);
    }

    [Fact]
    public async Task RunWhoseWorkersKeepDyingWhileItRunsAlone_IsQuarantinedAtClaim_NamingWhereItDied()
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore();
        await store.InitializeAsync(TestHost.Token);
        var client = KeelClient.Create(store);
        await client.StartWithJsonAsync("crashy", "0", new StartWorkflowOptions { RunId = "crashy", AllowUnknownWorkflow = true }, TestHost.Token);
        // Workers claim the run and die without progress: twice as usual (then it is suspect), then three times while
        // each ran it alone, the last one about to run step 'charge'.
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 5; i++)
        {
            var claimed = Assert.Single(await store.ClaimRunsAsync(new Keel.Storage.ClaimRequest
            {
                Owner = $"dead-{i}", WorkflowNames = ["crashy"], MaxRuns = 1, MaxAlone = 1, Now = now, LeaseExpiresAt = now,
            }, TestHost.Token));
            Assert.Equal(i >= 2, claimed.Alone);
            Assert.Equal(Math.Max(0, i - 2), claimed.Run.RecoveryAttempts);
            if (claimed.Alone)
            {
                var point = new RecoveryPointData("step", "charge", 4, i - 1).ToJson();
                Assert.True(await store.AppendAsync(claimed.Lease, [], Keel.Storage.RunUpdate.RecordRecoveryPoint(point, now), TestHost.Token));
            }
            now = now.AddMilliseconds(1);
        }
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("crashy", (_, n) => Task.FromResult(n)),
            options: o =>
            {
                o.MaxRecoveryAttempts = 3;
                o.SuspectWarmup = TimeSpan.Zero;
            });
        var run = await keel.Client.WaitForCompletionAsync("crashy", TestHost.Token);
        Assert.Equal(RunStatus.Blocked, run.Status);
        Assert.Contains("Quarantined after 3 recoveries without progress", run.StatusReason, StringComparison.Ordinal);
        Assert.Contains("step 'charge' (position 4, attempt 3)", run.StatusReason, StringComparison.Ordinal);
        Assert.Equal("Keel.ProcessCrashed", run.Error!.Type);
        Assert.Equal(3, run.RecoveryAttempts); // kept for people to see
        Assert.DoesNotContain("keel ", run.StatusReason, StringComparison.Ordinal); // remedies in words, not CLI syntax
    }

    [Fact]
    public async Task ManyWorkerDeaths_WhileRunsAreInFlightTogether_QuarantineNone()
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore();
        await store.InitializeAsync(TestHost.Token);
        var client = KeelClient.Create(store);
        for (var i = 0; i < 20; i++)
        {
            await client.StartWithJsonAsync("steady", i.ToString(System.Globalization.CultureInfo.InvariantCulture), new StartWorkflowOptions { RunId = $"steady-{i}", AllowUnknownWorkflow = true }, TestHost.Token);
        }
        // Forty busy workers in a row claim what they may and die with all of it in flight (none ran a suspect alone):
        // after two such deaths a run is suspect and waits for a worker that runs it alone, charged nothing.
        var now = DateTimeOffset.UtcNow;
        var claims = new List<int>();
        for (var death = 0; death < 40; death++)
        {
            var claimed = await store.ClaimRunsAsync(new Keel.Storage.ClaimRequest
            {
                Owner = $"dead-{death}", WorkflowNames = ["steady"], MaxRuns = 100, Now = now, LeaseExpiresAt = now,
            }, TestHost.Token);
            Assert.All(claimed, c => Assert.Equal(0, c.Run.RecoveryAttempts));
            claims.Add(claimed.Count);
            now = now.AddMilliseconds(1);
        }
        Assert.Equal([20, 20, 0], claims.Take(3));
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("steady", async (ctx, n) =>
            await ctx.StepAsync("double", _ => Task.FromResult(n * 2))), options: o => o.MaxRecoveryAttempts = 1);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i * 2, await keel.Client.GetResultAsync<int>($"steady-{i}", TestHost.Token));
        }
    }

    [Fact]
    public async Task Shutdown_DrainsInFlightStepAndJournalsIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        string runId;
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("drain", async (ctx, _) =>
        {
            var a = await ctx.StepAsync("short", async sc =>
            {
                executions.Add("short");
                await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, CancellationToken.None); // ignores cancellation
                return 1;
            });
            return await ctx.StepAsync("next", _ =>
            {
                executions.Add("next");
                return Task.FromResult(a + 1);
            });
        }), options: o => o.DrainTimeout = TimeSpan.FromSeconds(5)))
        {
            runId = (await keel.Client.StartAsync("drain", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["short"] == 1), "the step runs");
        } // stop while 'short' is in flight: it finishes within the drain time and is journaled; 'next' does not start

        var journal = await KeelClient.Create(db.CreateStore()).GetJournalAsync(runId, TestHost.Token);
        // The worker says who took the run and that it handed it back as it stopped.
        Assert.Equal([JournalEntryKind.RunClaimed, JournalEntryKind.StepCompleted, JournalEntryKind.RunReleased], journal.Select(e => e.Kind));
        Assert.Equal("short", journal[1].Name);
        var handedBack = (await KeelClient.Create(db.CreateStore()).GetHistoryAsync(runId, TestHost.Token))!.Events[^1];
        Assert.Equal((RunEventKind.Released, null, journal[0].Name), (handedBack.Kind, handedBack.Status, handedBack.Worker?.Id));
        Assert.Equal(0, executions["next"]);
        var run = await KeelClient.Create(db.CreateStore()).GetRunAsync(runId, TestHost.Token);
        Assert.Null(run!.Owner); // lease released: another worker may continue at once
    }
}
