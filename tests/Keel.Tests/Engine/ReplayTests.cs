namespace Keel.Tests.Engine;

public class ReplayTests
{
    [Fact]
    public async Task StepAsync_ThreeSteps_CompletesWithResultAndJournal()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("add", async (ctx, n) =>
        {
            var a = await ctx.StepAsync("one", _ => Task.FromResult(n + 1));
            var b = await ctx.StepAsync("two", _ => Task.FromResult(a * 2));
            return await ctx.StepAsync("three", _ => Task.FromResult(b + 3));
        }));
        var start = await keel.Client.StartAsync("add", 1, cancellationToken: TestHost.Token);
        Assert.Equal(7, await keel.Client.GetResultAsync<int>(start.RunId, TestHost.Token));
        var journal = await keel.Client.GetJournalAsync(start.RunId, TestHost.Token);
        Assert.Equal(JournalEntryKind.RunClaimed, journal[0].Kind); // the worker that ran it, in no position
        Assert.Equal(["one", "two", "three", "add"], journal.Skip(1).Select(e => e.Name));
        Assert.Equal([0, 1, 2, 3, 0], journal.Select(e => e.Sequence));
        Assert.Equal([0L, 1, 2, 3, 4], journal.Select(e => e.Index));
        Assert.Equal(JournalEntryKind.RunCompleted, journal[^1].Kind);
    }

    [Fact]
    public async Task Resume_AfterRestart_ReturnsRecordedOutcomesWithoutRunningBodiesAgain()
    {
        using var db = new TempDatabase();
        var runs = new Executions();
        var blockSecond = true;
        void Register(KeelBuilder k) => k.AddWorkflow<string, string>("flow", async (ctx, input) =>
        {
            var first = await ctx.StepAsync("first", _ =>
            {
                runs.Add("first");
                return Task.FromResult($"{input}-{Guid.NewGuid():N}"); // nondeterministic: replay must return the recorded value
            });
            var second = await ctx.StepAsync("second", async sc =>
            {
                runs.Add("second");
                if (blockSecond)
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                }
                return "done";
            });
            return $"{first}|{second}";
        });

        string runId;
        string firstValue;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("flow", "x", cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(runs["second"] == 1), "the second step is running");
            firstValue = (await keel.Client.GetJournalAsync(runId, TestHost.Token)).Single(e => e.Name == "first").Payload!;
        } // shutdown cancels the blocked step: its outcome is not recorded

        blockSecond = false;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            var result = await keel.Client.GetResultAsync<string>(runId, TestHost.Token);
            Assert.Equal($"{System.Text.Json.JsonSerializer.Deserialize<string>(firstValue)}|done", result);
        }
        Assert.Equal(1, runs["first"]);
        Assert.Equal(2, runs["second"]);
    }

    [Fact]
    public async Task DeterministicValues_AreTheSameOnReplay()
    {
        using var db = new TempDatabase();
        var block = true;
        var executions = new Executions();
        void Register(KeelBuilder k) => k.AddWorkflow<int, string>("values", async (ctx, _) =>
        {
            var guid = ctx.NewGuid();
            var random = ctx.Random.Next();
            var startedAt = ctx.UtcNow;
            var seen = await ctx.StepAsync("record", _ => Task.FromResult($"{guid}/{random}/{startedAt:O}"));
            await ctx.StepAsync("wait", async sc =>
            {
                executions.Add("wait");
                if (block)
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                }
                return 0;
            });
            return $"{seen}=={guid}/{random}/{startedAt:O}";
        });

        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("values", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["wait"] == 1), "the wait step runs");
        }
        block = false;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            var result = await keel.Client.GetResultAsync<string>(runId, TestHost.Token);
            var halves = result.Split("==");
            Assert.Equal(halves[0], halves[1]);
        }
    }

    [Fact]
    public async Task WhenAny_ReplaysTheRecordedWinner()
    {
        using var db = new TempDatabase();
        var block = true;
        var executions = new Executions();
        void Register(KeelBuilder k) => k.AddWorkflow<int, string>("race", async (ctx, _) =>
        {
            var slow = ctx.StepAsync("slow", async sc =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, sc.CancellationToken);
                return "slow";
            });
            var fast = ctx.StepAsync("fast", _ => Task.FromResult("fast"));
            var winner = await Task.WhenAny(slow, fast);
            var first = await winner;
            await ctx.StepAsync("gate", async sc =>
            {
                executions.Add("gate");
                if (block)
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                }
                return 0;
            });
            return $"{first}+{await slow}+{await fast}";
        });

        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("race", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["gate"] == 1), "the gate step runs");
            await TestHost.WaitForJournalAsync(keel.Client, runId, j => j.Any(e => e.Name == "slow"), "slow completes");
        }
        block = false;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            Assert.Equal("fast+slow+fast", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        var journal = await KeelClient.Create(db.CreateStore()).GetJournalAsync(runId, TestHost.Token);
        Assert.Equal(["fast", "slow", "gate"], journal.Where(e => e.Kind == JournalEntryKind.StepCompleted).Select(e => e.Name));
    }
}
