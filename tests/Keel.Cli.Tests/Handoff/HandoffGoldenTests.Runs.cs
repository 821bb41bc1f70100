using Keel.Storage;

namespace Keel.Cli.Tests.Handoff;

public partial class HandoffGoldenTests
{
    private sealed record Refund(string Customer, decimal Amount);

    /// <summary>The workflows of the golden runs; <paramref name="shapeV2"/> is a deploy that changed "shape" under its runs.</summary>
    private static void Register(KeelBuilder k, bool shapeV2)
    {
        k.AddWorkflow<string, string>("order", async (ctx, customer) =>
        {
            ctx.Plan("check stock", "charge", "ship");
            var stock = await ctx.StepAsync("check stock", _ => Task.FromResult("in stock"));
            ctx.SetStatus("charging the card", (1, 3));
            var charge = await ctx.StepAsync("charge", _ => Task.FromResult("charged 40 EUR"));
            await ctx.StepAsync("ship", _ => Task.FromResult("shipped"));
            return $"{customer}: {stock}, {charge}, shipped";
        });
        k.AddWorkflow<string, string>("charge", (ctx, card) => ctx.StepAsync<string>("charge card", _ => throw new RetryableStepException($"card network 503 for {card}"),
            new StepOptions { Retry = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(20), BackoffCoefficient = 1 } }));
        k.AddWorkflow<string, string>("invoice", async (ctx, customer) =>
        {
            await ctx.StepAsync("send invoice", _ => Task.FromResult($"invoice sent to {customer}"));
            return await ctx.WaitForSignalAsync<string>("invoice-paid", TimeSpan.FromDays(30));
        });
        k.AddWorkflow<string, string>("reminder", async (ctx, customer) =>
        {
            await ctx.StepAsync("draft", _ => Task.FromResult($"reminder for {customer}"));
            await ctx.SleepAsync(TimeSpan.FromDays(2), "wait-for-customer");
            return "reminded";
        });
        k.AddWorkflow<string, string>("refund", async (ctx, customer) =>
        {
            var decision = await ctx.RequestApprovalAsync(new ApprovalRequest<Refund>
            {
                Name = "refund", Title = $"Refund 40 EUR to {customer}", Arguments = new Refund(customer, 40), Action = "pay",
            });
            return await ctx.StepAsync("pay", _ => Task.FromResult($"paid {decision.Arguments.Amount}"));
        });
        k.AddWorkflow<string, string>("parent", (ctx, customer) =>
            ctx.RunChildAsync<string, string>("invoice", customer, new StartWorkflowOptions { RunId = "parent-wait-invoice" }));
        k.AddWorkflow<string, string>("guarded", (ctx, _) =>
            ctx.StepAsync("wire money", _ => Task.FromResult("wired"), new StepOptions { Requires = [StepGuard.ApprovalGranted("wire")] }));
        k.AddWorkflow<int, int>("batch", async (ctx, part) =>
        {
            await ctx.StepAsync($"process part {part}", _ => Task.FromResult(part));
            return part < 2 ? throw ctx.ContinueAsNew(part + 1) : part;
        });
        k.AddWorkflow<string, string>("shape", async (ctx, customer) =>
        {
            await ctx.StepAsync("a", _ => Task.FromResult(customer));
            if (shapeV2)
            {
                await ctx.StepAsync("b", _ => Task.FromResult("inserted without a version check"));
            }
            return await ctx.WaitForSignalAsync<string>("go");
        });
        k.Configure(o =>
        {
            o.PollInterval = TimeSpan.FromMilliseconds(20);
            o.BuildId = "golden";
        });
    }

    /// <summary>Makes the golden runs (or one) with real workers on <paramref name="db"/>, and stops them.</summary>
    internal static async Task MakeRunsAsync(string db, string? only = null)
    {
        bool Wanted(string runId) => only is null || only == runId;
        if (Wanted("order-taken-over"))
        {
            await StartTakenOverAsync(db);
        }
        await using (var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(db);
            Register(k, shapeV2: false);
        }, cancellationToken: Token))
        {
            var client = keel.Client;
            var started = new List<(string RunId, Func<RunInfo, bool> Reached)>();
            async Task StartAsync<T>(string workflow, string runId, T input, Func<RunInfo, bool> reached)
            {
                if (Wanted(runId))
                {
                    await client.StartAsync(workflow, input, new StartWorkflowOptions { RunId = runId }, Token);
                    started.Add((runId, reached));
                }
            }
            static bool Is(RunInfo run, RunStatus status) => run.Status == status;
            await StartAsync("order", "order-done", "ada", r => Is(r, RunStatus.Completed));
            await StartAsync("charge", "charge-failed", "4242", r => Is(r, RunStatus.Failed));
            await StartAsync("invoice", "invoice-wait", "bob", r => Is(r, RunStatus.Waiting));
            await StartAsync("reminder", "reminder-wait", "carol", r => Is(r, RunStatus.Waiting));
            await StartAsync("refund", "refund-wait", "dan", r => Is(r, RunStatus.Waiting));
            await StartAsync("parent", "parent-wait", "erin", r => Is(r, RunStatus.Waiting));
            await StartAsync("guarded", "guard-wait", "frank", r => Is(r, RunStatus.NeedsAttention));
            await StartAsync("invoice", "invoice-cancelled", "gina", r => Is(r, RunStatus.Waiting));
            await StartAsync("reminder", "reminder-paused", "hugo", r => Is(r, RunStatus.Waiting));
            await StartAsync("batch", "batch-1", 1, r => Is(r, RunStatus.Completed));
            await StartAsync("shape", "shape-blocked", "ivy", r => Is(r, RunStatus.Waiting));
            if (Wanted("order-taken-over"))
            {
                started.Add(("order-taken-over", r => Is(r, RunStatus.Completed)));
            }
            foreach (var (runId, reached) in started)
            {
                await TestRuns.UntilAsync(async () => reached((await client.GetRunAsync(runId, Token))!), $"run {runId} reaches its state");
            }
            if (Wanted("parent-wait"))
            {
                await TestRuns.UntilAsync(async () => (await client.GetRunAsync("parent-wait-invoice", Token))?.Status == RunStatus.Waiting, "the child waits");
            }
            if (Wanted("reminder-paused"))
            {
                await client.As("ops", "customer asked to wait").PauseAsync("reminder-paused", Token);
                await TestRuns.UntilAsync(async () => (await client.GetRunAsync("reminder-paused", Token))!.Status == RunStatus.Paused, "the run is paused");
            }
        }
        if (Wanted("shape-blocked") || Wanted("invoice-cancelled"))
        {
            // While no worker runs (the old one stopped for the deploy): the signal arrives, and a person cancels a run,
            // so that person's record comes before a worker delivers the cancellation (a worker racing the client's record
            // would order them either way from one test run to the next).
            await using (var quiet = await KeelHost.StartAsync(k =>
            {
                k.UseSqlite(db);
                k.RunWorker = false;
            }, cancellationToken: Token))
            {
                if (Wanted("shape-blocked"))
                {
                    await KeelClient.Create(quiet.Store).SignalAsync("shape-blocked", "go", "now", Token);
                }
                if (Wanted("invoice-cancelled"))
                {
                    await KeelClient.Create(quiet.Store).As("ops", "duplicate of invoice-wait").CancelAsync("invoice-cancelled", "duplicate of invoice-wait", Token);
                }
            }
            // A deploy that inserted a step before the wait, without a version check: the run cannot replay, and is blocked.
            await using var v2 = await KeelHost.StartAsync(k =>
            {
                k.UseSqlite(db);
                Register(k, shapeV2: true);
            }, cancellationToken: Token);
            if (Wanted("shape-blocked"))
            {
                await TestRuns.UntilAsync(async () => (await v2.Client.GetRunAsync("shape-blocked", Token))!.Status == RunStatus.Blocked, "the run is blocked");
            }
            if (Wanted("invoice-cancelled"))
            {
                await TestRuns.UntilAsync(async () => (await v2.Client.GetRunAsync("invoice-cancelled", Token))!.Status == RunStatus.Cancelled, "the run is cancelled");
            }
        }
    }

    /// <summary>
    /// A run a worker took, journaled its first step for, and died holding (as a SIGKILL leaves it: no release), written
    /// through the store as that worker wrote it; the registry then expires its lease, and a live worker takes it over.
    /// </summary>
    private static async Task StartTakenOverAsync(string db)
    {
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(db);
            k.RunWorker = false;
        }, cancellationToken: Token);
        var store = keel.Store;
        var now = TimeProvider.System.GetUtcNow();
        await store.CreateRunAsync(new NewRun { RunId = "order-taken-over", WorkflowName = "order", Input = "\"jo\"", CreatedAt = now }, Token);
        var claimed = Assert.Single(await store.ClaimRunsAsync(new ClaimRequest
        {
            Owner = "host-a/101/1/0000000a", WorkflowNames = ["order"], MaxRuns = 1, Now = now, LeaseExpiresAt = now.AddHours(1),
        }, Token));
        JournalEntry Entry(JournalEntryKind kind, int sequence, string name, string? payload) =>
            new() { Sequence = sequence, Kind = kind, Name = name, RecordedAt = now, StartedAt = sequence > 0 ? now : null, Attempt = sequence > 0 ? 1 : 0, Payload = payload };
        Assert.True(await store.AppendAsync(claimed.Lease,
        [
            Entry(JournalEntryKind.RunClaimed, 0, "host-a/101/1/0000000a", """{"host":"host-a","pid":101,"build":"golden"}"""),
            Entry(JournalEntryKind.StepCompleted, 1, "check stock", "\"in stock\""),
            Entry(JournalEntryKind.PlanDeclared, 0, "plan", """["check stock","charge","ship"]"""),
        ], null, Token));
        Assert.Equal(1, await store.ExpireLeasesAsync(["host-a/101/1/0000000a"], Token));
    }
}
