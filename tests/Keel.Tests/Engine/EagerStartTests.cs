using Keel.Storage;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Engine;

/// <summary>Eager start: a client in a worker's process hands a new run straight to that worker when it has room.</summary>
public class EagerStartTests
{
    [Fact]
    public async Task StartInTheWorkersProcess_IsHeldFromCreation_AndRunsWithoutEverBeingClaimed()
    {
        using var db = new TempDatabase();
        var steps = new Executions();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("w", async (ctx, x) =>
            await ctx.StepAsync("double", _ =>
            {
                steps.Add("double");
                return Task.FromResult(x * 2);
            })), options: o => o.WorkerId = "worker-1");

        var start = await keel.Client.StartAsync("w", 21, cancellationToken: TestHost.Token);

        Assert.Equal(RunStatus.Running, start.Run.Status);
        Assert.Equal("worker-1", start.Run.Owner);
        Assert.Equal(42, await keel.Client.GetResultAsync<int>(start.RunId, TestHost.Token));
        Assert.Equal(1, steps["double"]);
        Assert.Equal(1L, LeaseEpoch(db, start.RunId)); // a claim would have made it 2
    }

    [Fact]
    public async Task WorkerWithoutAFreeSlot_LeavesTheNewRunToTheQueue_WhichItClaimsWhenASlotFrees()
    {
        using var db = new TempDatabase();
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("w", async (ctx, x) =>
            await ctx.StepAsync("wait", async _ => x == 0 ? await gate.Task : x)), options: o => o.MaxConcurrentRuns = 1);

        var first = await keel.Client.StartAsync("w", 0, cancellationToken: TestHost.Token);
        var second = await keel.Client.StartAsync("w", 2, cancellationToken: TestHost.Token);

        Assert.Equal(RunStatus.Running, first.Run.Status);
        Assert.Equal(RunStatus.Pending, second.Run.Status);
        Assert.Null(second.Run.Owner);
        gate.SetResult(1);
        Assert.Equal(1, await keel.Client.GetResultAsync<int>(first.RunId, TestHost.Token));
        Assert.Equal(2, await keel.Client.GetResultAsync<int>(second.RunId, TestHost.Token));
        Assert.Equal(1L, LeaseEpoch(db, second.RunId)); // claimed once, by the worker, when the slot freed
    }

    [Fact]
    public async Task EagerStartTurnedOff_CreatesRunsUnheld_ForAnyWorkerToClaim()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("w", (_, x) => Task.FromResult(x + 1)),
            options: o => o.EagerStart = false);

        var start = await keel.Client.StartAsync("w", 1, cancellationToken: TestHost.Token);

        Assert.Equal(RunStatus.Pending, start.Run.Status);
        Assert.Equal(2, await keel.Client.GetResultAsync<int>(start.RunId, TestHost.Token));
    }

    [Fact]
    public async Task StartOfAnExistingRunId_ReturnsTheStoredRun_AndGivesTheSlotBack()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("w", (_, x) => Task.FromResult(x)),
            options: o => (o.MaxConcurrentRuns, o.WorkerId) = (1, "worker-1"));

        var first = await keel.Client.StartAsync("w", 1, new StartWorkflowOptions { RunId = "same" }, TestHost.Token);
        await keel.Client.WaitForCompletionAsync("same", TestHost.Token);
        var again = await keel.Client.StartAsync("w", 1, new StartWorkflowOptions { RunId = "same" }, TestHost.Token);
        var next = await keel.Client.StartAsync("w", 3, cancellationToken: TestHost.Token);

        Assert.True(first.Created);
        Assert.False(again.Created);
        Assert.Equal(RunStatus.Completed, again.Run.Status);
        Assert.Equal("worker-1", next.Run.Owner); // the one slot was given back: the next run is held at once
        Assert.Equal(3, await keel.Client.GetResultAsync<int>(next.RunId, TestHost.Token));
    }

    [Fact]
    public async Task RunCreatedHeldWhileTheWorkerStops_IsHandedBackToTheStore_AndAnotherWorkerRunsIt()
    {
        using var db = new TempDatabase();
        var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("w", (_, x) => Task.FromResult(x * 10)));
        var eager = keel.Worker!.TryReserveStart("w")!;
        await keel.StopAsync(TestHost.Token); // the stop comes between the reservation and the hand-over
        var created = await keel.Store.CreateRunAsync(new NewRun
        {
            RunId = "late", WorkflowName = "w", Input = "4", CreatedAt = DateTimeOffset.UtcNow, Owner = eager.Owner,
            LeaseExpiresAt = eager.LeaseExpiresAt,
        }, TestHost.Token);
        await eager.StartAsync(new ClaimedRun { Lease = created.Lease!, Run = created.Run, JournalLength = 0 });
        await keel.DisposeAsync();

        // Not held until its lease (30 s) expires: the next worker runs it at once.
        await using var next = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("w", (_, x) => Task.FromResult(x * 10)));
        Assert.Equal(40, await next.Client.GetResultAsync<int>("late", TestHost.Token).WaitAsync(TimeSpan.FromSeconds(10), TestHost.Token));
    }

    [Fact]
    public async Task RunsOfALimitedWorkflow_AndRunsStartedAfterTheWorkerStopped_AreCreatedUnheld()
    {
        using var db = new TempDatabase();
        var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, int>("limited", (_, x) => Task.FromResult(x))
            .AddWorkflow<int, int>("free", (_, x) => Task.FromResult(x))
            .LimitConcurrency("limited", 5));
        await using (keel)
        {
            Assert.Equal(RunStatus.Pending, (await keel.Client.StartAsync("limited", 1, cancellationToken: TestHost.Token)).Run.Status);
            Assert.Equal(RunStatus.Running, (await keel.Client.StartAsync("free", 1, cancellationToken: TestHost.Token)).Run.Status);
            await keel.StopAsync(TestHost.Token);
            Assert.Null(keel.Worker!.TryReserveStart("free"));
            Assert.Equal(RunStatus.Pending, (await keel.Client.StartAsync("free", 2, cancellationToken: TestHost.Token)).Run.Status);
        }
    }

    private static long LeaseEpoch(TempDatabase db, string runId)
    {
        using var connection = new SqliteConnection($"Data Source={db.Path};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT lease_epoch FROM runs WHERE run_id = $id";
        command.Parameters.AddWithValue("$id", runId);
        return (long)command.ExecuteScalar()!;
    }
}
