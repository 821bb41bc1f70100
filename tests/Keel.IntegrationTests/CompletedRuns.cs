namespace Keel.IntegrationTests;

/// <summary>What the crash tests wait for: every run of the test Completed.</summary>
internal static class CompletedRuns
{
    public static async Task<bool> AllAsync(KeelClient client, int runs, CancellationToken ct)
    {
        var page = await client.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Completed], Limit = 1000 }, ct);
        return page.Runs.Count == runs;
    }

    /// <summary>Starts one last worker that is not killed and waits (at most 60 s) until every run completed.</summary>
    public static async Task FinishWithLastWorkerAsync(string db, string effects, KeelClient client, int runs, CancellationToken ct)
    {
        using var final = WorkerProcess.Start(db, effects);
        var deadline = Environment.TickCount64 + 60_000;
        while (!await AllAsync(client, runs, ct))
        {
            Assert.True(Environment.TickCount64 < deadline, "runs did not all complete within 60 s of the last restart");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, ct);
        }
        await final.KillAsync();
    }
}
