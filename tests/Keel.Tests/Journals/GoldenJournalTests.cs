using Microsoft.Extensions.Time.Testing;

namespace Keel.Tests.Journals;

/// <summary>
/// Databases written by earlier versions of Keel, committed under Journals/, are resumed by today's engine: the
/// journal format, the schema migrations and replay stay compatible, or the change is deliberate and visible here.
/// </summary>
public class GoldenJournalTests
{
    private const string Workflow = "golden-research";

    private static void Register(KeelBuilder k, Executions executions) => k.AddWorkflow<string, string>(Workflow, async (ctx, topic) =>
    {
        var plan = await ctx.StepAsync("plan", _ =>
        {
            executions.Add("plan");
            return Task.FromResult(new[] { $"{topic}-a", $"{topic}-b" });
        });
        var found = await ctx.StepAsync("search", _ =>
        {
            executions.Add("search");
            return Task.FromResult(string.Join('+', plan));
        });
        var flaky = await ctx.StepAsync("flaky", sc =>
        {
            executions.Add($"flaky#{sc.Attempt}");
            return sc.Attempt == 1
                ? throw new InvalidOperationException("upstream 503")
                : Task.FromResult($"attempt {sc.Attempt} after '{sc.PreviousFailures[0].Error.Message}'");
        }, new StepOptions { Retry = new RetryPolicy { InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1) } });
        return $"{found} | {flaky} | {ctx.NewGuid():N}";
    });

    [Fact]
    public async Task V1Database_MidRunWithFailedAttempt_ResumesWithoutRerunningRecordedSteps()
    {
        using var db = new TempDatabase();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journals", "golden-v1.db"), db.Path);
        var executions = new Executions();
        var time = new FakeTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero)); // past the recorded retry time
        await using var keel = await TestHost.StartAsync(db, k => Register(k, executions), time);
        var result = await keel.Client.GetResultAsync<string>("golden-1", TestHost.Token);

        Assert.StartsWith("keel-a+keel-b | attempt 2 after 'upstream 503' | ", result, StringComparison.Ordinal);
        Assert.Equal(0, executions["plan"]);
        Assert.Equal(0, executions["search"]);
        Assert.Equal(0, executions["flaky#1"]);
        Assert.Equal(1, executions["flaky#2"]);
        // NewGuid is seeded from the run id: the same value every version must produce for this run.
        Assert.EndsWith(GoldenGuid, result, StringComparison.Ordinal);
    }

    private const string GoldenGuid = "4978afa936b14614adae6f1af00bff70";

    /// <summary>Writes a new golden database; run with KEEL_WRITE_GOLDEN=path when the format changes deliberately.</summary>
    [Fact]
    public async Task WriteGoldenDatabase_WhenAsked()
    {
        var target = Environment.GetEnvironmentVariable("KEEL_WRITE_GOLDEN");
        if (string.IsNullOrEmpty(target))
        {
            return;
        }
        using var db = new TempDatabase();
        var executions = new Executions();
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions)))
        {
            await keel.Client.StartAsync(Workflow, "keel", new StartWorkflowOptions { RunId = "golden-1" }, TestHost.Token);
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync("golden-1", TestHost.Token))!.Status == RunStatus.Waiting,
                "the run waits for its retry");
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Copy(db.Path, target, overwrite: true);
    }
}
