namespace Keel.Tests.Engine;

public class PauseTests
{
    [Fact]
    public async Task Pause_RunningRun_StopsAfterTheStepInFlight_StaysPausedAcrossRestart_ThenResumes()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Register(KeelBuilder k) => k.AddWorkflow<int, string>("pausable", async (ctx, _) =>
        {
            var a = await ctx.StepAsync("first", async sc =>
            {
                executions.Add("first");
                await release.Task.WaitAsync(sc.CancellationToken);
                return "a";
            });
            var b = await ctx.StepAsync("second", _ =>
            {
                executions.Add("second");
                return Task.FromResult("b");
            });
            return a + b;
        });

        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("pausable", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(executions["first"] == 1), "the first step runs");
            Assert.False(await keel.Client.PauseAsync(runId, TestHost.Token)); // held by the worker: requested
            release.SetResult(); // the step in flight finishes; its outcome is kept
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Paused, "the run pauses");
            var journal = await keel.Client.GetJournalAsync(runId, TestHost.Token);
            Assert.Equal([JournalEntryKind.RunClaimed, JournalEntryKind.StepCompleted, JournalEntryKind.RunReleased], journal.Select(e => e.Kind));
            Assert.Equal("first", journal[1].Name);
            Assert.Equal(RunStatus.Paused, (await keel.Client.GetHistoryAsync(runId, TestHost.Token))!.Events[^1].Status);
        }

        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, TestHost.Token);
            var paused = await keel.Client.GetRunAsync(runId, TestHost.Token);
            Assert.Equal(RunStatus.Paused, paused!.Status); // a restart does not resume it
            Assert.False(paused.PauseRequested);
            Assert.Equal(0, executions["second"]);

            await keel.Client.ResumeAsync(runId, TestHost.Token);
            Assert.Equal("ab", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        Assert.Equal(1, executions["first"]);
        Assert.Equal(1, executions["second"]);
    }

    [Fact]
    public async Task Pause_RunNoWorkerHolds_IsPausedAtOnce_AndBadRequestsAreClear()
    {
        using var db = new TempDatabase();
        await using var keel = await KeelHost.StartAsync(k => { k.UseSqlite(db.Path); k.RunWorker = false; }, cancellationToken: TestHost.Token);
        await keel.Client.StartWithJsonAsync("w", "{}", new StartWorkflowOptions { RunId = "queued", AllowUnknownWorkflow = true }, TestHost.Token);
        Assert.True(await keel.Client.PauseAsync("queued", TestHost.Token));
        var run = await keel.Client.GetRunAsync("queued", TestHost.Token);
        Assert.Equal(RunStatus.Paused, run!.Status);
        var again = await Assert.ThrowsAsync<RunStateException>(() => keel.Client.PauseAsync("queued", TestHost.Token));
        Assert.Contains("is Paused", again.Message, StringComparison.Ordinal);

        await keel.Client.ResumeAsync("queued", TestHost.Token);
        Assert.Equal(RunStatus.Running, (await keel.Client.GetRunAsync("queued", TestHost.Token))!.Status);
        var notPaused = await Assert.ThrowsAsync<RunStateException>(() => keel.Client.ResumeAsync("queued", TestHost.Token));
        Assert.Contains("not paused", notPaused.Message, StringComparison.Ordinal);

        Assert.True(await keel.Client.PauseAsync("queued", TestHost.Token));
        await keel.Client.CancelAsync("queued", null, TestHost.Token); // a paused run has nothing to unwind: cancelled at once
        Assert.Equal(RunStatus.Cancelled, (await keel.Client.GetRunAsync("queued", TestHost.Token))!.Status);
        await Assert.ThrowsAsync<RunFinishedException>(() => keel.Client.PauseAsync("queued", TestHost.Token));
        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.PauseAsync("missing", TestHost.Token));
    }
}
