using System.Diagnostics;
using Keel.Sqlite;
using Keel.Testing;
using Keel.TestWorker;

namespace Keel.IntegrationTests;

/// <summary>
/// The crash harness on a workflow with three parallel branches, a child run, an AtMostOnce step and a compensation:
/// crashed after each journal append in turn, it always recovers to the uninterrupted result, and no effect happens
/// more often than its kind allows.
/// </summary>
public class CrashHarnessTests
{
    [Fact]
    public async Task InProcess_CrashAfterEveryEntry_SameResult_AndEffectCountsHold()
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Directory.CreateTempSubdirectory("keel-harness-ledgers-");
        string LedgerFor(int point) => Path.Combine(dir.FullName, $"ledger-{point}.txt");

        var report = await CrashHarness.RunInProcessAsync((k, process) => HarnessFlow.Register(k, new EffectLedger(LedgerFor(process.CrashPoint), process)),
            HarnessFlow.Name, "7", cancellationToken: ct);

        Assert.Equal(RunStatus.Completed, report.Reference.Run.Status);
        Assert.Equal("\"7,14,21|child 1764|receipt-1764|released\"", report.Reference.Run.Result);
        Assert.True(report.ReferenceEntries >= 10, $"only {report.ReferenceEntries} entries");
        Assert.Equal(report.ReferenceEntries, report.Trials.Count);
        Assert.Empty(report.Diverged);
        // Every trial reaches its point: the entries before it are the same in every trial, however appends were batched.
        Assert.All(report.Trials, t => Assert.True(t.Crashed, $"point {t.CrashAfterEntry} was not reached"));
        foreach (var trial in report.Trials)
        {
            CheckEffects(LedgerFor(trial.CrashAfterEntry), $"crash point {trial.CrashAfterEntry}");
        }
        // The unknown-outcome path ran: a crash right after send-invoice's started record, settled by its outcome check.
        Assert.Contains(report.Trials, t => t.Journal.Any(e => e.Kind == JournalEntryKind.StepResolved && e.Name == "send-invoice"));
        TestContext.Current.TestOutputHelper?.WriteLine($"{report.Trials.Count} crash points, all recovered to {report.Reference.Run.Result}");
        dir.Delete(recursive: true);
    }

    [Fact]
    public async Task OutOfProcess_SigkillAfterEveryEntry_SameResult_AndEffectCountsHold()
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Directory.CreateTempSubdirectory("keel-harness-sigkill-");
        var stores = new List<SqliteWorkflowStore>();
        string Db(int point) => Path.Combine(dir.FullName, $"keel-{point}.db");
        string Ledger(int point) => Path.Combine(dir.FullName, $"ledger-{point}.txt");
        var current = 0;
        try
        {
            var trials = await CrashHarness.RunOutOfProcessAsync(async point =>
            {
                current = point;
                var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = Db(point) });
                stores.Add(store);
                var client = KeelClient.Create(store);
                await client.StartWithJsonAsync(HarnessFlow.Name, "7", new StartWorkflowOptions { RunId = "harness-run", AllowUnknownWorkflow = true }, ct);
                return ("harness-run", client);
            }, point => Worker(Db(current), Ledger(current), point), maxPoints: 200, ct);

            Assert.True(trials.Count >= 10, $"only {trials.Count} points");
            Assert.False(trials[^1].Crashed); // the last points lie beyond the run's appends: every point was tried
            foreach (var trial in trials)
            {
                Assert.Equal(RunStatus.Completed, trial.Run.Status);
                Assert.Equal("\"7,14,21|child 1764|receipt-1764|released\"", trial.Run.Result);
                CheckEffects(Ledger(trial.CrashAfterEntry), $"SIGKILL at point {trial.CrashAfterEntry}");
            }
            Assert.Contains(trials, t => t.Journal.Any(e => e.Kind == JournalEntryKind.StepResolved && e.Name == "send-invoice"));
            TestContext.Current.TestOutputHelper?.WriteLine($"{trials.Count(t => t.Crashed)} SIGKILLs, one after each entry's append; all recovered");
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
        dir.Delete(recursive: true);
    }

    private static void CheckEffects(string ledger, string where)
    {
        var lines = EffectLedger.Lines(ledger);
        // Idempotent effects: perhaps re-run after a crash, but always with the same key: applied once.
        foreach (var effect in new[] { "branch-1", "branch-2", "branch-3", "square", "reserve" })
        {
            Assert.True(lines.Where(l => l.Effect == effect).Select(l => l.Key).Distinct().Count() == 1, $"{where}: {effect} applied under several keys");
        }
        // AtMostOnce: the body acted once at most; the compensation ran once.
        Assert.True(lines.Count(l => l.Effect == "send-invoice") <= 1, $"{where}: send-invoice ran twice");
        Assert.True(lines.Count(l => l.Effect == "release") <= 1, $"{where}: the compensation ran twice");
        Assert.Single(lines.Where(l => l.Effect == "release").Select(l => l.Key).Distinct());
    }

    private static ProcessStartInfo Worker(string db, string ledger, int crashAfter)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var dll = Path.Combine(dir.Parent!.Parent!.FullName, "Keel.TestWorker", dir.Name, "Keel.TestWorker.dll");
        var info = new ProcessStartInfo("dotnet") { ArgumentList = { "exec", dll, "--db", db, "--effects", ledger + ".unused", "--ledger", ledger } };
        if (crashAfter > 0)
        {
            info.ArgumentList.Add("--crash-after");
            info.ArgumentList.Add(crashAfter.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return info;
    }
}
