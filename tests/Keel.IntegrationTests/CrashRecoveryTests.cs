using System.Text.Json;
using Keel.Sqlite;

namespace Keel.IntegrationTests;

/// <summary>
/// Kills real worker processes with SIGKILL at random points, over and over, and checks that every run completes
/// with the right result and that no step whose outcome was journaled ran again.
/// </summary>
public class CrashRecoveryTests
{
    private const int Runs = 12;
    private const int Steps = 30;
    private const int Kills = 22;

    [Fact]
    public async Task SigkillAtRandomPoints_EveryRunCompletes_AndNoJournaledStepRunsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var scratch = await CrashScratch.CreateAsync("keel-crash-", ct);
        var (db, effects, random) = (scratch.Db, scratch.Effects, scratch.Random);

        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = db });
        var client = KeelClient.Create(store);
        for (var i = 0; i < Runs; i++)
        {
            await client.StartAsync("crash-flow", new { steps = Steps, seed = i }, new StartWorkflowOptions { RunId = $"run-{i:00}", AllowUnknownWorkflow = true }, ct);
        }

        var killed = new HashSet<int>();
        var kills = 0;
        while (kills < Kills && !await CompletedRuns.AllAsync(client, Runs, ct))
        {
            var before = CountLines(effects);
            var target = before + random.Next(1, 5);
            using var worker = WorkerProcess.Start(db, effects);
            var deadline = Environment.TickCount64 + 20_000;
            while (CountLines(effects) < target && Environment.TickCount64 < deadline && !await CompletedRuns.AllAsync(client, Runs, ct))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(2), TimeProvider.System, ct);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 25)), TimeProvider.System, ct); // land anywhere in a step
            await worker.KillAsync();
            killed.Add(worker.Pid);
            kills++;
        }
        Assert.True(kills >= 20, $"the work ran out after {kills} kills; the test needs at least 20");

        await CompletedRuns.FinishWithLastWorkerAsync(db, effects, client, Runs, ct);

        var executions = File.ReadAllLines(effects)
            .Select(line => line.Split(' '))
            .GroupBy(parts => (Run: parts[0], Step: parts[1]), parts => int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.ToList());
        var reran = 0;
        for (var i = 0; i < Runs; i++)
        {
            var runId = $"run-{i:00}";
            var run = await client.GetRunAsync(runId, ct);
            Assert.Equal(RunStatus.Completed, run!.Status);
            Assert.Equal($"\"sum={Steps * (Steps + 1) / 2}\"", run.Result);
            var journal = await client.GetJournalAsync(runId, ct);
            for (var s = 1; s <= Steps; s++)
            {
                var completed = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepCompleted && e.Name == $"s{s}");
                var committedPid = JsonSerializer.Deserialize<int>(completed.Payload!);
                var pids = executions[(runId, $"s{s}")];
                // The journaled execution is the last one; any earlier one was in flight in a worker that was killed.
                Assert.Equal(committedPid, pids[^1]);
                foreach (var earlier in pids[..^1])
                {
                    Assert.Contains(earlier, killed);
                    Assert.NotEqual(committedPid, earlier);
                }
                reran += pids.Count - 1;
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{kills} kills; {reran} step bodies re-ran after being interrupted in flight");
        scratch.Delete();
    }


    private static int CountLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var count = 0;
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            if (b == '\n')
            {
                count++;
            }
        }
        return count;
    }
}
