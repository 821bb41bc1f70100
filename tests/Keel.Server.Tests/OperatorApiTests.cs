using Keel.Storage;

namespace Keel.Server.Tests;

/// <summary>Starting only what some worker serves, listing workers, unblocking a run, and payload limits, over real HTTP.</summary>
public class OperatorApiTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Start_OfAWorkflowNoWorkerServes_Is400NamingTheServedOnes_UnlessAllowed_AndWorkersAreListed(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        var (refused, problem) = await h.PostAsync("api/runs", """{"workflow":"gret","input":"ada","runId":"typo"}""");
        Assert.Equal(400, refused);
        Assert.Contains("serves a workflow named 'gret'", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("greet", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(404, (await h.GetAsync("api/runs/typo")).Status); // nothing stored

        var (queued, run) = await h.PostAsync("api/runs", """{"workflow":"deployed-later","input":1,"runId":"later","allowUnknownWorkflow":true}""");
        Assert.Equal(201, queued);
        Assert.Equal("Pending", run.GetProperty("run").Str("status"));

        var (listed, workers) = await h.GetAsync("api/workers");
        Assert.Equal(200, listed);
        var worker = Assert.Single(workers.Items());
        Assert.Contains("greet", worker.GetProperty("workflows").Items().Select(w => w.GetString()));
        Assert.Equal(Environment.ProcessId, worker.GetProperty("processId").GetInt32());
        Assert.Equal(400, (await h.GetAsync("api/workers?days=-1")).Status);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Unblock_ABlockedRun_JournalsWhoAndWhy_AndAWorkerFinishesIt_WhileOtherStatesAreRefused(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        // A run of "greet" blocked before any worker ran it (as a quarantine would leave it).
        var now = DateTimeOffset.UtcNow;
        await h.Store.CreateRunAsync(new NewRun { RunId = "stuck", WorkflowName = "greet", Input = "\"bo\"", CreatedAt = now, Owner = "gone", LeaseExpiresAt = now.AddMinutes(1) }, ServerHarness.Token);
        Assert.True(await h.Store.AppendAsync(new RunLease("stuck", "gone", 1),
            [new JournalEntry { Sequence = 0, Kind = JournalEntryKind.RunBlocked, Name = "greet", RecordedAt = now }],
            RunUpdate.Finish(RunStatus.Blocked, now, error: new ErrorInfo("E", "m", null), reason: "quarantined"), ServerHarness.Token));

        var (status, run) = await h.PostAsync("api/runs/stuck/unblock", """{"by":"ada","reason":"fixed the config"}""");
        Assert.Equal(200, status);
        Assert.NotEqual("Blocked", run.Str("status"));
        var done = await h.EventuallyAsync("api/runs/stuck", r => r.Str("status") == "Completed", "the unblocked run completes");
        Assert.Equal("\"hello bo\"", done.Raw("result"));
        var (_, journal) = await h.GetAsync("api/runs/stuck/journal");
        var unblocked = Assert.Single(journal.Items(), e => e.Str("kind") == "RunUnblocked");
        Assert.Contains("fixed the config", unblocked.Raw("payload"), StringComparison.Ordinal);

        Assert.Equal(409, (await h.PostAsync("api/runs/stuck/unblock")).Status); // finished
        Assert.Equal(404, (await h.PostAsync("api/runs/nobody/unblock")).Status);
        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"waits"}""");
        var (notBlocked, problem) = await h.PostAsync("api/runs/waits/unblock");
        Assert.Equal(409, notBlocked);
        Assert.Contains("not Blocked", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Retry_AFailedRun_ContinuesItFromTheFailedStep_AndOtherStatesAreRefused(StoreKind kind)
    {
        var healthy = false;
        await using var h = await ServerHarness.StartAsync(kind, k => k.AddWorkflow<int, string>("flaky", (ctx, n) =>
            ctx.StepAsync("call", _ => healthy ? Task.FromResult($"ok {n}") : throw new InvalidOperationException("upstream 503"),
                new StepOptions { Retry = RetryPolicy.None })));
        await h.PostAsync("api/runs", """{"workflow":"flaky","input":7,"runId":"f1"}""");
        var failed = await h.EventuallyAsync("api/runs/f1", r => r.Str("status") == "Failed", "the run fails");
        Assert.Contains("upstream 503", failed.ToString(), StringComparison.Ordinal);
        var (_, history) = await h.GetAsync("api/runs/f1/history");
        Assert.Contains("/api/runs/f1/retry", history.ToString(), StringComparison.Ordinal); // offered as the next action

        healthy = true;
        var (status, run) = await h.PostAsync("api/runs/f1/retry", """{"by":"ada","reason":"upstream is back"}""");
        Assert.Equal(200, status);
        Assert.NotEqual("Failed", run.Str("status"));
        var done = await h.EventuallyAsync("api/runs/f1", r => r.Str("status") == "Completed", "the retried run completes");
        Assert.Equal("\"ok 7\"", done.Raw("result"));
        var (_, journal) = await h.GetAsync("api/runs/f1/journal");
        Assert.Contains("upstream is back", Assert.Single(journal.Items(), e => e.Str("kind") == "RunRetried").Raw("payload"), StringComparison.Ordinal);

        var (completed, problem) = await h.PostAsync("api/runs/f1/retry");
        Assert.Equal(409, completed);
        Assert.Contains("not Failed", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(404, (await h.PostAsync("api/runs/nobody/retry")).Status);
    }
}
