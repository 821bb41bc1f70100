using Keel.Sqlite;
using Keel.Testing;

namespace Keel.Samples.GoldenRuns;

/// <summary>
/// Golden runs in CI: <c>golden-runs.json</c> holds runs recorded by an earlier version of the app (written with
/// <c>keel export --workflow order --last 20 --out golden-runs.json</c>, or by <see cref="RecordGoldenRuns"/>). Every
/// change to the workflow code is replayed against them, with no database and no live calls: a change that would block
/// runs in flight fails the build instead of the deploy.
/// </summary>
public class GoldenRunTests
{
    private static RunArchive Golden() => RunArchive.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden-runs.json")));

    [Fact]
    public void TheCurrentCodeReplaysEveryGoldenRun()
    {
        using var replayer = new WorkflowReplayer(k => k.AddWorkflow<OrderWorkflow>());

        var reports = replayer.Replay(Golden());

        Assert.NotEmpty(reports);
        Assert.All(reports, report => Assert.True(report.Compatible, report.Message));
    }

    [Fact]
    public void ACarelessReorderIsCaughtWithWhatWasRecorded()
    {
        using var replayer = new WorkflowReplayer(k => k.AddWorkflow<CarelessOrderWorkflow>());

        var broken = replayer.Replay(Golden()).Where(r => !r.Compatible).ToList();

        Assert.NotEmpty(broken);
        Assert.All(broken, report => Assert.Contains("charge", report.Recorded, StringComparison.Ordinal));
    }

    /// <summary>Writes the golden runs afresh from the current code, on a throwaway SQLite file, exported as
    /// <c>keel export</c> would. Run it on purpose only:
    /// <c>KEEL_RECORD_GOLDEN=$PWD/golden-runs.json dotnet run -- -method "*RecordGoldenRuns" -explicit only</c>.</summary>
    [Fact(Explicit = true)]
    public async Task RecordGoldenRuns()
    {
        var path = Environment.GetEnvironmentVariable("KEEL_RECORD_GOLDEN");
        Assert.False(string.IsNullOrEmpty(path), "set KEEL_RECORD_GOLDEN to the file to write (golden-runs.json)");
        var ct = TestContext.Current.CancellationToken;
        var db = Path.Combine(Path.GetTempPath(), $"golden-{Guid.NewGuid():N}.db");
        await using var keel = await KeelHost.StartAsync(k => k.UseSqlite(db).AddWorkflow<OrderWorkflow>(), cancellationToken: ct);
        var ids = new List<string>();
        foreach (var order in new[] { new Order("A-1", 20m, false), new Order("A-2", 2500m, true), new Order("A-3", 99.5m, true) })
        {
            var run = await keel.Client.StartAsync("order", order, new StartWorkflowOptions { RunId = $"golden-{order.Id}" }, ct);
            await keel.Client.GetResultAsync<string>(run.RunId, ct);
            ids.Add(run.RunId);
        }
        await File.WriteAllTextAsync(path, (await keel.Client.ExportAsync(ids, ct)).ToJson(), ct);
    }
}
