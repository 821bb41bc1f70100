namespace Keel.Tests.Engine;

/// <summary>Code changes while runs are in flight: GetVersion, Patched and DeprecatePatch, and keys that do not move.</summary>
public class VersioningTests
{
    /// <summary>v1 runs a, b, c; v2 inserts 'audit' after a (behind a patch) and runs c before b (behind a version).</summary>
    private static void Register(KeelBuilder k, Executions executions, int codeVersion, Func<string, Task>? hold = null) =>
        k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            async Task<string> Step(string name)
            {
                return await ctx.StepAsync(name, async sc =>
                {
                    executions.Add(name);
                    executions.Add($"{name} key {sc.IdempotencyKey}");
                    if (hold is not null)
                    {
                        await hold(name);
                    }
                    return name;
                });
            }

            var trail = new List<string> { await Step("a") };
            if (codeVersion == 1)
            {
                trail.Add(await Step("b"));
                trail.Add(await Step("c"));
                return string.Join(",", trail);
            }
            if (ctx.Patched("audit"))
            {
                trail.Add(await Step("audit"));
            }
            if (ctx.GetVersion("c-before-b", WorkflowContext.DefaultVersion, 1) == 1)
            {
                trail.Add(await Step("c"));
                trail.Add(await Step("b"));
            }
            else
            {
                trail.Add(await Step("b"));
                trail.Add(await Step("c"));
            }
            return string.Join(",", trail);
        });

    /// <summary>Starts a run on a worker of <paramref name="codeVersion"/>, which stops (a redeploy) while step
    /// <paramref name="holdAt"/>'s body runs: its outcome is never journaled.</summary>
    private static async Task<string> StartHeldAtAsync(TempDatabase db, Executions executions, int codeVersion, string holdAt, string? build = null)
    {
        var running = new TaskCompletionSource();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions, codeVersion, async name =>
        {
            if (name == holdAt)
            {
                running.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System);
            }
        }), options: build is null ? null : o => o.BuildId = build);
        var runId = (await keel.Client.StartAsync("order", 0, cancellationToken: TestHost.Token)).RunId;
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30), TestHost.Token);
        return runId;
    }

    public static TheoryData<string> InFlightAt => new() { "a", "b", "c" };

    [Theory]
    [MemberData(nameof(InFlightAt))]
    public async Task V1RunsInFlight_AtEveryStep_CompleteOnV2_OnTheirOldPath_WithNoBodyRunTwice(string inFlight)
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await StartHeldAtAsync(db, executions, 1, inFlight); // redeploy while the step runs

        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions, 2)))
        {
            // A run whose journal went past 'a' (b completed) takes the old path; one whose journal ends at 'a' is on new ground.
            var expected = inFlight == "c" ? "a,b,c" : "a,audit,c,b";
            Assert.Equal(expected, await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        foreach (var step in new[] { "a", "b", "c" })
        {
            // Each body ran once, plus the attempt the redeploy interrupted (its outcome was never journaled).
            Assert.Equal(step == inFlight ? 2 : 1, executions[step]);
        }
    }

    [Theory]
    [MemberData(nameof(InFlightAt))]
    public async Task V1RunsInFlight_AtEveryStep_CompleteOnAV2ThatRemovedAStep_BehindAPatch(string inFlight)
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await StartHeldAtAsync(db, executions, 1, inFlight);

        // v2 no longer runs 'b': runs that already went past it keep it (their journal has it), the others skip it.
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            var trail = new List<string>();
            foreach (var name in new[] { "a", "b", "c" })
            {
                if (name == "b" && ctx.Patched("drop-b"))
                {
                    continue;
                }
                trail.Add(await ctx.StepAsync(name, _ =>
                {
                    executions.Add(name);
                    return Task.FromResult(name);
                }));
            }
            return string.Join(",", trail);
        })))
        {
            Assert.Equal(inFlight == "c" ? "a,b,c" : "a,c", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        // No body ran twice beyond the attempt the redeploy interrupted; 'b' ran only for the run that had journaled it.
        Assert.Equal(inFlight == "a" ? 2 : 1, executions["a"]);
        Assert.Equal(inFlight == "c" ? 1 : inFlight == "b" ? 1 : 0, executions["b"]);
        Assert.Equal(inFlight == "c" ? 2 : 1, executions["c"]);
    }

    [Fact]
    public async Task NewRuns_TakeTheNewestVersion_AndKeepIt_AcrossARestart()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await StartHeldAtAsync(db, executions, 2, "audit");
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions, 2)))
        {
            Assert.Equal("a,audit,c,b", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
            var markers = (await keel.Client.GetJournalAsync(runId, TestHost.Token)).Where(e => e.Kind == JournalEntryKind.VersionMarker).ToList();
            Assert.Equal([("audit", "1"), ("c-before-b", "1")], markers.Select(m => (m.Name, m.Payload!)));
        }
        Assert.Equal(1, executions["a"]);
    }

    [Fact]
    public async Task ARunFromBeforeADeprecatedPatch_IsBlocked_SayingWhy_InsteadOfTakingAPathItNeverTook()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await StartHeldAtAsync(db, executions, 1, "c");
        await using (var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            await ctx.StepAsync("a", _ => Task.FromResult("a"));
            ctx.DeprecatePatch("audit");
            await ctx.StepAsync("audit", _ => Task.FromResult("audit"));
            return "done";
        })))
        {
            var run = await keel.Client.WaitForCompletionAsync(runId, TestHost.Token);
            Assert.Equal(RunStatus.Blocked, run.Status);
            Assert.Contains("no version of change 'audit' (the run went past this point before the change)", run.StatusReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KeelsOwnChangeIds_AreRefused()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("sneaky", (ctx, _) =>
        {
            try
            {
                ctx.GetVersion("keel.idempotency-key", WorkflowContext.DefaultVersion, 1);
                return Task.FromResult("accepted");
            }
            catch (ArgumentException ex)
            {
                return Task.FromResult(ex.Message);
            }
        }));
        var runId = (await keel.Client.StartAsync("sneaky", 0, cancellationToken: TestHost.Token)).RunId;
        Assert.Contains("are Keel's own", await keel.Client.GetResultAsync<string>(runId, TestHost.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultIdempotencyKeys_DoNotMove_WhenAStepIsInsertedBeforeThem()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions, 2));
        var runId = (await keel.Client.StartAsync("order", 0, cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<string>(runId, TestHost.Token);
        // v1 keyed b and c by name too: inserting 'audit' and reordering moved their positions, not their keys.
        Assert.Equal(1, executions[$"b key {runId}/b"]);
        Assert.Equal(1, executions[$"c key {runId}/c"]);
    }

    [Fact]
    public async Task AStepNameAskedForTwice_IsKeyedByItsOccurrence()
    {
        using var db = new TempDatabase();
        var keys = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("poll", async (ctx, _) =>
        {
            for (var i = 0; i < 3; i++)
            {
                await ctx.StepAsync("check", sc =>
                {
                    keys.Enqueue(sc.IdempotencyKey);
                    return Task.FromResult(i);
                });
            }
            return 0;
        }));
        var runId = (await keel.Client.StartAsync("poll", 0, cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<int>(runId, TestHost.Token);
        Assert.Equal([$"{runId}/check", $"{runId}/check#2", $"{runId}/check#3"], keys);
    }

    [Fact]
    public async Task ARunBlockedByANewBuild_IsRetriedOnce_ByAWorkerOfAnotherBuild_AndTheOldCodeBroughtBackCompletesIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await StartHeldAtAsync(db, executions, 1, "c", build: "v1");

        // v2 renamed 'b' without a version check: the run (past 'b') is blocked, saying which build blocked it.
        void Unguarded(KeelBuilder k) => k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            await ctx.StepAsync("a", _ => Task.FromResult("a"));
            await ctx.StepAsync("b-renamed", _ => Task.FromResult("b"));
            return "v2";
        });
        await using (var keel = await TestHost.StartAsync(db, Unguarded, options: o => o.BuildId = "v2"))
        {
            Assert.Equal(RunStatus.Blocked, (await keel.Client.WaitForCompletionAsync(runId, TestHost.Token)).Status);
        }
        var blocked = (await ReadJournalAsync(db, runId)).Last(e => e.Kind == JournalEntryKind.RunBlocked);
        Assert.Contains("\"build\":\"v2\"", blocked.Payload, StringComparison.Ordinal);

        // Another v2 worker leaves it (its own build blocked it)...
        await using (var keel = await TestHost.StartAsync(db, Unguarded, options: o => o.BuildId = "v2"))
        {
            Assert.Equal(RunStatus.Blocked, (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status);
        }
        // ...the old code brought back (build v1) retries it by itself, and it completes with no manual step.
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions, 1), options: o => o.BuildId = "v1"))
        {
            Assert.Equal("a,b,c", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
            var history = (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!;
            Assert.Equal("keel worker of build v1", Assert.Single(history.Decisions, d => d.Kind == DecisionKind.Unblock).By);
        }
        Assert.Equal((1, 1), (executions["a"], executions["b"]));
    }

    [Fact]
    public async Task AWorkerServingOnlyItsOwnBuilds_LeavesARunOfAnotherBuild_ToAWorkerThatServesIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var runId = await StartHeldAtAsync(db, executions, 1, "c", build: "1.4.0+abc");
        await using (var store = new Sqlite.SqliteWorkflowStore(new Sqlite.SqliteStoreOptions { Path = db.Path }))
        {
            Assert.Equal("1.4.0+abc", (await store.GetRunAsync(runId, TestHost.Token))!.BuildId); // the build it started on
            // A new run, created before the next worker starts, is due after the held one: the claim that takes it sees both.
            await store.CreateRunAsync(new Keel.Storage.NewRun { RunId = "fresh", WorkflowName = "order", Input = "0", CreatedAt = DateTimeOffset.UtcNow.AddSeconds(1) },
                TestHost.Token);
        }

        // v2 renamed 'b' without a version check, and says so: it serves its own 2.x builds only. It takes the new run and
        // leaves the v1 run alone (rather than blocking it).
        void Renamed(KeelBuilder k) => k.AddWorkflow<int, string>("order", async (ctx, _) =>
        {
            await ctx.StepAsync("a", _ => Task.FromResult("a"));
            await ctx.StepAsync("b-renamed", _ => Task.FromResult("b"));
            return "v2";
        });
        await using (var keel = await TestHost.StartAsync(db, Renamed, options: o => { o.BuildId = "2.0"; o.ServesBuilds = ["2.*"]; }))
        {
            Assert.Equal("v2", await keel.Client.GetResultAsync<string>("fresh", TestHost.Token));
            Assert.Equal("2.0", (await keel.Client.GetRunAsync("fresh", TestHost.Token))!.BuildId);
            var held = (await keel.Client.GetRunAsync(runId, TestHost.Token))!;
            Assert.Equal((RunStatus.Running, null, "1.4.0+abc"), (held.Status, held.Owner, held.BuildId));
        }

        // A worker of the old code, serving 1.4.x, completes it.
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions, 1), options: o => { o.BuildId = "1.4.1"; o.ServesBuilds = ["1.4.*"]; }))
        {
            Assert.Equal("a,b,c", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        Assert.Equal((1, 1), (executions["a"], executions["b"]));
    }

    private static async Task<IReadOnlyList<JournalEntry>> ReadJournalAsync(TempDatabase db, string runId)
    {
        await using var store = new Sqlite.SqliteWorkflowStore(new Sqlite.SqliteStoreOptions { Path = db.Path });
        return await store.GetJournalAsync(runId, TestHost.Token);
    }
}
