using Keel.Sqlite;

namespace Keel.IntegrationTests;

/// <summary>
/// Signals sent while worker processes are killed with SIGKILL over and over: each signal is delivered exactly once,
/// in the order it was sent, whatever the moment of the kill.
/// </summary>
public class SignalCrashTests
{
    private const int Runs = 6;
    private const int Signals = 15;
    private const int Kills = 10;

    [Fact]
    public async Task SignalsAcrossSigkills_AreDeliveredOnceEach_InOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var scratch = await CrashScratch.CreateAsync("keel-signal-crash-", ct);
        var (db, effects, random) = (scratch.Db, scratch.Effects, scratch.Random);

        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db });
        var client = KeelClient.Create(store);
        var runIds = Enumerable.Range(0, Runs).Select(i => $"sig-{i}").ToList();
        foreach (var runId in runIds)
        {
            await client.StartAsync("signal-flow", Signals, new StartWorkflowOptions { RunId = runId, AllowUnknownWorkflow = true }, ct);
        }

        // The sender: signals 1..N to every run, a few milliseconds apart, while workers come and go.
        var sender = Task.Run(async () =>
        {
            for (var n = 1; n <= Signals; n++)
            {
                foreach (var runId in runIds)
                {
                    await client.SignalAsync(runId, "item", n, ct);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(40, 120)), TimeProvider.System, ct);
            }
        }, ct);

        var kills = 0;
        while (kills < Kills && !await CompletedRuns.AllAsync(client, Runs, ct))
        {
            using var worker = WorkerProcess.Start(db, effects);
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(150, 500)), TimeProvider.System, ct); // start-up plus some work
            await worker.KillAsync();
            kills++;
        }
        await sender;
        await CompletedRuns.FinishWithLastWorkerAsync(db, effects, client, Runs, ct);

        var expected = string.Join(",", Enumerable.Range(1, Signals));
        foreach (var runId in runIds)
        {
            var run = await client.GetRunAsync(runId, ct);
            Assert.Equal($"\"{expected}\"", run!.Result);
            var received = (await client.GetJournalAsync(runId, ct)).Where(e => e.Kind == JournalEntryKind.SignalReceived).Select(e => e.Payload);
            Assert.Equal(Enumerable.Range(1, Signals).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), received);
            Assert.Empty(await store.GetSignalsAsync(runId, ct));
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{kills} kills while {Runs * Signals} signals were sent");
        Assert.True(kills >= 3, $"only {kills} kills happened before the runs finished; the test needs several");
        scratch.Delete();
    }
}
