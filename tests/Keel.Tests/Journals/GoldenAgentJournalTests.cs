namespace Keel.Tests.Journals;

/// <summary>
/// A database written by Keel before the journal state machine (commit 19a60c8), holding every operation kind: a step,
/// a signal set aside and one taken, an approval decided with edited arguments, a child run, and an AtMostOnce step
/// interrupted mid-body that waits for a person, its reason journaled as text with a command line in it. Today's engine
/// resumes it, reads the old reason, and a person's decision settles it.
/// </summary>
public class GoldenAgentJournalTests
{
    private const string Workflow = "golden-agent";

    public sealed record Refund(int Amount);

    private static void Register(KeelBuilder k, Executions executions, Func<Task>? sendBody = null)
    {
        k.AddWorkflow<string, string>("golden-child", (ctx, input) => ctx.StepAsync("echo", _ =>
        {
            executions.Add("echo");
            return Task.FromResult($"child:{input}");
        }));
        k.AddWorkflow<string, string>(Workflow, async (ctx, topic) =>
        {
            var plan = await ctx.StepAsync("plan", _ =>
            {
                executions.Add("plan");
                return Task.FromResult($"plan for {topic}");
            });
            var answer = await ctx.WaitForSignalAsync<int>("answer");
            var decision = await ctx.RequestApprovalAsync(new ApprovalRequest<Refund> { Name = "refund", Title = "Refund the customer", Arguments = new Refund(10) });
            var child = await ctx.RunChildAsync<string, string>("golden-child", "c");
            var sent = await ctx.StepAsync("send", async sc =>
            {
                executions.Add("send");
                executions.Add($"key {sc.IdempotencyKey}");
                if (sendBody is not null)
                {
                    await sendBody();
                }
                return "sent";
            }, new StepOptions { Effect = StepEffect.AtMostOnce });
            return $"{plan} | {answer} | {decision.Outcome} {decision.Arguments.Amount} | {child} | {sent}";
        });
    }

    private static async Task<KeelHost> ResumeAsync(TempDatabase db, Executions executions)
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journals", "golden-agent-v2.db"), db.Path);
        var keel = await TestHost.StartAsync(db, k => Register(k, executions));
        await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync("golden-agent-1", TestHost.Token))!.Status == RunStatus.NeedsAttention,
            "the resumed run waits for a person");
        return keel;
    }

    [Fact]
    public async Task OldTextReason_StillReads_WithoutTheCommandItEmbedded_AndRetrySettlesIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await ResumeAsync(db, executions);

        var run = await keel.Client.GetRunAsync("golden-agent-1", TestHost.Token);
        Assert.Contains("Outcome unknown: the process stopped while 'send' was running (attempt 1", run!.StatusReason, StringComparison.Ordinal);
        var attention = (await keel.Client.GetJournalAsync("golden-agent-1", TestHost.Token)).Single(e => e.Kind == JournalEntryKind.StepNeedsAttention);
        var reason = AttentionReason.FromEntry(attention);
        Assert.Equal((AttentionKind.Unspecified, "send", 5), (reason.Kind, reason.Step, reason.Position));
        Assert.StartsWith("Outcome unknown: the process stopped while 'send' was running", reason.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("keel resolve", reason.ToString(), StringComparison.Ordinal); // the renderers say what to do now

        Assert.Equal("send", await keel.Client.ResolveAsync("golden-agent-1", StepResolution.Retry("alice", "the outbox is empty"), TestHost.Token));
        Assert.Equal("plan for keel | 42 | Approved 12 | child:c | sent", await keel.Client.GetResultAsync<string>("golden-agent-1", TestHost.Token));
        Assert.Equal(0, executions["plan"]);
        Assert.Equal(0, executions["echo"]);
        Assert.Equal(1, executions["send"]); // once, on the person's decision
        Assert.Equal(1, executions["key golden-agent-1/5"]); // the key its attempt used before the upgrade: run id and position
        var failure = (await keel.Client.GetJournalAsync("golden-agent-1", TestHost.Token)).Where(e => e.Name == "send").Select(e => e.Kind).ToList();
        Assert.Equal([JournalEntryKind.StepStarted, JournalEntryKind.StepNeedsAttention, JournalEntryKind.StepResolved, JournalEntryKind.StepStarted, JournalEntryKind.StepCompleted], failure);
    }

    [Fact]
    public async Task OldTextReason_CompleteWith_SettlesTheStepWithoutRunningIt()
    {
        using var db = new TempDatabase();
        var executions = new Executions();
        await using var keel = await ResumeAsync(db, executions);
        await keel.Client.ResolveAsync("golden-agent-1", StepResolution.CompleteWith("\"sent by hand\"", "bob"), TestHost.Token);
        Assert.EndsWith("| sent by hand", await keel.Client.GetResultAsync<string>("golden-agent-1", TestHost.Token), StringComparison.Ordinal);
        Assert.Equal(0, executions["send"]);
    }

    /// <summary>Writes the database; run with KEEL_WRITE_GOLDEN_AGENT=path (it was written by commit 19a60c8).</summary>
    [Fact]
    public async Task WriteGoldenDatabase_WhenAsked()
    {
        var target = Environment.GetEnvironmentVariable("KEEL_WRITE_GOLDEN_AGENT");
        if (string.IsNullOrEmpty(target))
        {
            return;
        }
        using var db = new TempDatabase();
        var executions = new Executions();
        var sending = new TaskCompletionSource();
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions, async () =>
        {
            sending.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System);
        })))
        {
            await keel.Client.StartAsync(Workflow, "keel", new StartWorkflowOptions { RunId = "golden-agent-1" }, TestHost.Token);
            await keel.Client.SignalWithJsonAsync("golden-agent-1", "answer", "\"not a number\"", TestHost.Token);
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetJournalAsync("golden-agent-1", TestHost.Token)).Any(e => e.Kind == JournalEntryKind.SignalRejected),
                "the text answer is set aside");
            await keel.Client.SignalAsync("golden-agent-1", "answer", 42, TestHost.Token);
            await TestHost.EventuallyAsync(async () => (await keel.Client.ListPendingApprovalsAsync("golden-agent-1", cancellationToken: TestHost.Token)).Count == 1,
                "the refund waits for approval");
            await keel.Client.DecideApprovalAsync("golden-agent-1", new ApprovalResponse { Approved = true, By = "carol", ArgumentsJson = "{\"amount\":12}" }, TestHost.Token);
            await sending.Task.WaitAsync(TimeSpan.FromSeconds(30), TestHost.Token);
        } // the worker stops while 'send' runs: its outcome is unknown
        await using (var keel = await TestHost.StartAsync(db, k => Register(k, executions)))
        {
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync("golden-agent-1", TestHost.Token))!.Status == RunStatus.NeedsAttention,
                "the run waits for a person");
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Copy(db.Path, target, overwrite: true);
    }
}
