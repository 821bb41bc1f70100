using Keel.Testing;

namespace Keel.Tests.Engine;

/// <summary>Hermetic replay: exported journals against changed code, with no store and no live calls.</summary>
public class ReplayerTests
{
    private static void V1(KeelBuilder k, Executions executions) => k.AddWorkflow<string, string>("triage", async (ctx, ticket) =>
    {
        var kind = await ctx.StepAsync("classify", _ =>
        {
            executions.Add("classify");
            return Task.FromResult(ticket.Length > 5 ? "long" : "short");
        });
        var answer = await ctx.StepAsync("draft", _ =>
        {
            executions.Add("draft");
            return Task.FromResult($"{kind} answer");
        });
        return answer;
    });

    private static async Task<RunArchive> RecordAsync(Executions executions)
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => V1(k, executions));
        var ids = new List<string>();
        foreach (var ticket in new[] { "hi", "a longer ticket" })
        {
            var id = (await keel.Client.StartAsync("triage", ticket, cancellationToken: TestHost.Token)).RunId;
            await keel.Client.GetResultAsync<string>(id, TestHost.Token);
            ids.Add(id);
        }
        // Through its JSON, as a repository keeps it.
        return RunArchive.Parse((await keel.Client.ExportAsync(ids, TestHost.Token)).ToJson());
    }

    [Fact]
    public async Task TheSameCode_ReplaysEveryRecordedRun_WithoutRunningABody()
    {
        var executions = new Executions();
        var archive = await RecordAsync(executions);
        var recorded = new Executions();
        using var replayer = new WorkflowReplayer(k => V1(k, recorded));

        var reports = replayer.Replay(archive);

        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.True(r.Compatible, r.Message));
        Assert.All(reports, r => Assert.True(r.CodeReturned));
        Assert.Equal(0, recorded["classify"] + recorded["draft"]);
    }

    [Fact]
    public async Task CodeThatResumesInlineAfterADurableCall_ReplaysAsItRanLive()
    {
        // ConfigureAwait(false) on a durable operation resumes on the delivering thread (as library code such as
        // Microsoft.Extensions.AI does): the replayer must deliver as the worker does, on the run's marked thread.
        static void Inline(KeelBuilder k) => k.AddWorkflow<string, string>("inline", async (ctx, input) =>
        {
            var first = await ctx.StepAsync("first", _ => Task.FromResult(input + "1")).ConfigureAwait(false);
            return await ctx.StepAsync("second", _ => Task.FromResult(first + "2")).ConfigureAwait(false);
        });
        using var db = new TempDatabase();
        string id;
        RunArchive archive;
        await using (var keel = await TestHost.StartAsync(db, Inline))
        {
            id = (await keel.Client.StartAsync("inline", "x", cancellationToken: TestHost.Token)).RunId;
            Assert.Equal("x12", await keel.Client.GetResultAsync<string>(id, TestHost.Token));
            archive = await keel.Client.ExportAsync([id], TestHost.Token);
        }
        using var replayer = new WorkflowReplayer(Inline);
        var report = Assert.Single(replayer.Replay(archive));
        Assert.True(report.Compatible, report.Message);
        Assert.True(report.CodeReturned);
    }

    [Fact]
    public async Task ARenamedStep_IsReportedAtItsPosition_WithWhatWasRecordedAndWhatIsAsked()
    {
        var archive = await RecordAsync(new Executions());
        using var replayer = new WorkflowReplayer(k => k.AddWorkflow<string, string>("triage", async (ctx, ticket) =>
        {
            var kind = await ctx.StepAsync("classify", _ => Task.FromResult("x"));
            return await ctx.StepAsync("compose", _ => Task.FromResult(kind)); // was 'draft'
        }));

        var report = replayer.Replay(archive.Runs[0]);

        Assert.False(report.Compatible);
        Assert.Equal(2, report.Position);
        Assert.Equal("step 'draft'", report.Recorded);
        Assert.Equal("step 'compose'", report.Requested);
    }

    [Fact]
    public async Task AChangeGuardedByAPatch_IsCompatible()
    {
        var archive = await RecordAsync(new Executions());
        using var replayer = new WorkflowReplayer(k => k.AddWorkflow<string, string>("triage", async (ctx, ticket) =>
        {
            var kind = await ctx.StepAsync("classify", _ => Task.FromResult("x"));
            if (ctx.Patched("review"))
            {
                await ctx.StepAsync("review", _ => Task.FromResult(0));
            }
            return await ctx.StepAsync("draft", _ => Task.FromResult(kind));
        }));

        Assert.All(replayer.Replay(archive), r => Assert.True(r.Compatible, r.Message));
    }

    [Fact]
    public async Task CodeThatAsksForMore_ThanARunThatEnded_Recorded_IsADifference_NotACall()
    {
        var archive = await RecordAsync(new Executions());
        var calls = 0;
        using var replayer = new WorkflowReplayer(k => k.AddWorkflow<string, string>("triage", async (ctx, ticket) =>
        {
            var kind = await ctx.StepAsync("classify", _ => Task.FromResult("x"));
            var answer = await ctx.StepAsync("draft", _ => Task.FromResult(kind));
            return await ctx.StepAsync("polish", _ =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(answer);
            });
        }));

        var report = replayer.Replay(archive.Runs[1]);

        Assert.False(report.Compatible);
        Assert.Equal(3, report.Position);
        Assert.Contains("RunCompleted", report.Recorded, StringComparison.Ordinal);
        Assert.Contains("step 'polish'", report.Requested, StringComparison.Ordinal);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task AnUnregisteredWorkflow_AndAForeignFile_AreSaidSo()
    {
        var archive = await RecordAsync(new Executions());
        using var replayer = new WorkflowReplayer(k => k.AddWorkflow<int, int>("other", (_, n) => Task.FromResult(n)));
        Assert.Contains("is not registered", replayer.Replay(archive.Runs[0]).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => RunArchive.Parse("{\"format\":\"something/9\",\"runs\":[]}"));
        Assert.Throws<FormatException>(() => RunArchive.Parse("not json"));
    }

    [Fact]
    public async Task TheArchive_KeepsEveryFieldOfTheJournal()
    {
        var executions = new Executions();
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => V1(k, executions));
        var id = (await keel.Client.StartAsync("triage", "hi", cancellationToken: TestHost.Token)).RunId;
        await keel.Client.GetResultAsync<string>(id, TestHost.Token);
        var archive = await keel.Client.ExportAsync([id], TestHost.Token);
        var json = archive.ToJson();
        Assert.Contains("\"format\": \"keel.runs/1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"StepCompleted\"", json, StringComparison.Ordinal);
        var back = RunArchive.Parse(json);
        Assert.Equal(await keel.Client.GetJournalAsync(id, TestHost.Token), back.Runs[0].Journal);
        Assert.Equal("\"hi\"", back.Runs[0].Input!.Value.GetRawText());
    }
}
