using System.Globalization;
using System.Text.Json;
using Keel.Postgres;
using Npgsql;

namespace Keel.IntegrationTests;

/// <summary>
/// Two worker processes on one PostgreSQL schema: one is SIGKILLed or SIGSTOPped mid-run, and the other carries its
/// runs on after the lease (2 s) expires. A stopped worker that wakes after its leases were taken can no longer append.
/// </summary>
public sealed class PostgresFailoverTests : IAsyncDisposable
{
    private const int Runs = 6;
    private const int Steps = 12;
    private readonly string _connectionString;
    private readonly string _schema = "keel_f_" + Guid.NewGuid().ToString("N")[..16];
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("keel-failover-");
    private readonly string _effects;
    private readonly PostgresWorkflowStore _store;
    private readonly KeelClient _client;

    public PostgresFailoverTests()
    {
        _connectionString = Environment.GetEnvironmentVariable("KEEL_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "KEEL_TEST_POSTGRES is not set, so the PostgreSQL failover tests have no server. Run ./test.sh (it starts a " +
                "throwaway PostgreSQL with eng/postgres.sh), or set KEEL_TEST_POSTGRES to an Npgsql connection string.");
        _effects = Path.Combine(_dir.FullName, "effects.log");
        File.WriteAllText(_effects, "");
        _store = new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = _connectionString, Schema = _schema });
        _client = KeelClient.Create(_store);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private WorkerProcess StartWorker() =>
        WorkerProcess.Start(["--postgres", _connectionString, "--schema", _schema, "--effects", _effects, "--lease-ms", "2000", "--poll-ms", "50"]);

    [Fact]
    public async Task SigkilledWorker_ItsRunsAreFinishedByTheOtherAfterLeaseExpiry()
    {
        await StartRunsAsync();
        using var a = StartWorker();
        await WaitForEffectsAsync(a.Pid, 4);
        using var b = StartWorker(); // idle: A holds every run
        await WaitForEffectsAsync(a.Pid, 8); // B is up meanwhile
        var heldByA = await CountOwnedByAsync(a.Pid);
        await a.KillAsync();
        var killedAt = CountLines();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await WaitForEffectsAsync(b.Pid, 1);
        var takeover = clock.Elapsed;
        await WaitAllCompletedAsync(TimeSpan.FromSeconds(60));
        TestContext.Current.TestOutputHelper?.WriteLine($"A held {heldByA} run(s) when killed; B ran its first step {takeover.TotalMilliseconds:0} ms later");
        Assert.True(heldByA > 0, "worker A held no run when killed; the test proves nothing");
        Assert.All(File.ReadAllLines(_effects).Skip(killedAt), l => Assert.EndsWith($" {b.Pid}", l, StringComparison.Ordinal));
        await AssertEachStepJournaledOnceAsync(killed: [a.Pid]);
        await b.KillAsync();
    }

    [Fact]
    public async Task StoppedWorker_WhoseLeasesWereTaken_CannotAppendAfterItResumes()
    {
        await StartRunsAsync();
        using var a = StartWorker();
        await WaitForEffectsAsync(a.Pid, 3);
        a.Signal("STOP"); // frozen mid-step: holds leases it can no longer renew
        await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, Token);
        var stoppedAt = CountLines();
        using var b = StartWorker(); // A's process exists, so only lease expiry frees its runs
        await WaitAllCompletedAsync(TimeSpan.FromSeconds(60));
        a.Signal("CONT"); // A finishes the step bodies it was in, then tries to append them
        await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System, Token);
        Assert.False(a.HasExited);
        await a.KillAsync();
        await b.KillAsync();

        var late = File.ReadAllLines(_effects).Skip(stoppedAt).Select(l => l.Split(' '))
            .Where(p => p[2] == a.Pid.ToString(CultureInfo.InvariantCulture)).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"A ran {late.Count} step body(ies) after SIGCONT; none may be journaled as A's");
        await AssertEachStepJournaledOnceAsync(killed: [a.Pid]);
        foreach (var parts in late)
        {
            var journal = await _client.GetJournalAsync(parts[0], Token);
            var completed = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepCompleted && e.Name == parts[1]);
            Assert.NotEqual(a.Pid, JsonSerializer.Deserialize<int>(completed.Payload!));
        }
    }

    private static IEnumerable<string> RunIds() => Enumerable.Range(0, Runs).Select(i => $"run-{i}");

    private async Task StartRunsAsync()
    {
        await _store.InitializeAsync(Token);
        foreach (var (runId, i) in RunIds().Select((r, i) => (r, i)))
        {
            await _client.StartAsync("crash-flow", new { steps = Steps, seed = i }, new StartWorkflowOptions { RunId = runId, AllowUnknownWorkflow = true }, Token);
        }
    }

    private async Task WaitForEffectsAsync(int pid, int count)
    {
        var deadline = Environment.TickCount64 + 30_000;
        while (File.ReadAllLines(_effects).Count(l => l.EndsWith($" {pid}", StringComparison.Ordinal)) < count)
        {
            Assert.True(Environment.TickCount64 < deadline, $"worker {pid} recorded fewer than {count} step bodies within 30 s");
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, Token);
        }
    }

    private async Task<int> CountOwnedByAsync(int pid)
    {
        var page = await _client.ListRunsAsync(new RunQuery { Limit = 1000 }, Token);
        return page.Runs.Count(r => r.Owner?.Split('/') is [_, var p, ..] && p == pid.ToString(CultureInfo.InvariantCulture));
    }

    private async Task WaitAllCompletedAsync(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while ((await _client.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Completed], Limit = 1000 }, Token)).Runs.Count < Runs)
        {
            Assert.True(Environment.TickCount64 < deadline, $"the runs did not all complete within {timeout.TotalSeconds} s");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, Token);
        }
    }

    private int CountLines() => File.ReadAllLines(_effects).Length;

    /// <summary>Every step is journaled once, by the execution that ran last; an earlier execution was by a worker that was killed or stopped.</summary>
    private async Task AssertEachStepJournaledOnceAsync(int[] killed)
    {
        var executions = File.ReadAllLines(_effects)
            .Select(line => line.Split(' '))
            .GroupBy(parts => (Run: parts[0], Step: parts[1]), parts => int.Parse(parts[2], CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.ToList());
        foreach (var runId in RunIds())
        {
            var run = await _client.GetRunAsync(runId, Token);
            Assert.Equal(RunStatus.Completed, run!.Status);
            Assert.Equal($"\"sum={Steps * (Steps + 1) / 2}\"", run.Result);
            var journal = await _client.GetJournalAsync(runId, Token);
            var operations = journal.Where(e => JournalKinds.RoleOf(e.Kind) != EntryRole.RunRecord).ToList();
            Assert.Equal(operations.Count, operations.Select(e => (e.Kind, e.Sequence)).Distinct().Count());
            // A run the killed worker had written to says so: the next worker took it over from one that never let go.
            var holders = journal.Where(e => e.Kind == JournalEntryKind.RunClaimed).Select(e => e.Name).ToList();
            if (holders.Distinct().Count() > 1)
            {
                var history = (await _client.GetHistoryAsync(runId, Token))!;
                var takeover = Assert.Single(history.Events, e => e.Kind == RunEventKind.TakenOver);
                Assert.Equal((holders[0], holders[^1]), (takeover.PreviousWorker, takeover.Worker?.Id));
            }
            for (var s = 1; s <= Steps; s++)
            {
                var completed = Assert.Single(journal, e => e.Kind == JournalEntryKind.StepCompleted && e.Name == $"s{s}");
                var committedPid = JsonSerializer.Deserialize<int>(completed.Payload!);
                var pids = executions[(runId, $"s{s}")];
                Assert.Contains(committedPid, pids);
                foreach (var other in pids.Where(p => p != committedPid))
                {
                    Assert.Contains(other, killed);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE;", connection);
            await drop.ExecuteNonQueryAsync();
        }
        _dir.Delete(recursive: true);
    }
}
