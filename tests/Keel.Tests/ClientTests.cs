namespace Keel.Tests;

public class ClientTests
{
    private static void Register(KeelBuilder k) => k.AddWorkflow<Order, string>("order", async (ctx, order) =>
        await ctx.StepAsync("ship", _ => Task.FromResult($"{order.Sku} x{order.Quantity}")));

    public sealed record Order(string Sku, int Quantity);

    [Fact]
    public async Task ManyWaitersAtOnce_EachGetsItsOwnRun_AndAWaitForAnUnknownRunFailsAlone()
    {
        using var db = new TempDatabase();
        // A client without a worker (its waiters read the store) beside the worker's host, so every wait reads runs.
        await using var keel = await TestHost.StartAsync(db, Register, options: o => o.MaxConcurrentRuns = 50);
        await using var store = db.CreateStore();
        var client = KeelClient.Create(store, new KeelOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
        var runs = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => keel.Client.StartAsync("order", new Order($"sku-{i}", i), cancellationToken: TestHost.Token)));

        var unknown = client.WaitForCompletionAsync("no-such-run", TestHost.Token);
        var finished = await Task.WhenAll(runs.Select(r => client.WaitForCompletionAsync(r.RunId, TestHost.Token)));

        await Assert.ThrowsAsync<RunNotFoundException>(() => unknown);
        for (var i = 0; i < runs.Length; i++)
        {
            Assert.Equal(runs[i].RunId, finished[i].RunId);
            Assert.Equal(RunStatus.Completed, finished[i].Status);
            Assert.Equal($"\"sku-{i} x{i}\"", finished[i].Result);
        }
    }

    [Fact]
    public async Task Start_SameRunIdTwice_ReturnsTheExistingRunAndRunsOnce()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, Register);
        var options = new StartWorkflowOptions { RunId = "order-42" };
        var first = await keel.Client.StartAsync("order", new Order("apple", 2), options, TestHost.Token);
        var second = await keel.Client.StartAsync("order", new Order("pear", 9), options, TestHost.Token);
        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal("order-42", second.RunId);
        Assert.Equal("apple x2", await keel.Client.GetResultAsync<string>("order-42", TestHost.Token));
        var page = await keel.Client.ListRunsAsync(cancellationToken: TestHost.Token);
        Assert.Single(page.Runs);
    }

    [Fact]
    public async Task Start_SameRunIdForAnotherWorkflow_Throws()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k =>
        {
            Register(k);
            k.AddWorkflow<int, int>("other", (_, n) => Task.FromResult(n));
        });
        await keel.Client.StartAsync("order", new Order("apple", 1), new StartWorkflowOptions { RunId = "x" }, TestHost.Token);
        var ex = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() =>
            keel.Client.StartAsync("other", 1, new StartWorkflowOptions { RunId = "x" }, TestHost.Token));
        Assert.Equal("order", ex.Existing.WorkflowName);
    }

    [Fact]
    public async Task Start_UnknownWorkflow_ThrowsAndStoresNothing()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, Register);
        var ex = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => keel.Client.StartAsync("ordr", new Order("a", 1), cancellationToken: TestHost.Token));
        Assert.Contains("'ordr'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("order", ex.Message, StringComparison.Ordinal);
        Assert.Empty((await keel.Client.ListRunsAsync(cancellationToken: TestHost.Token)).Runs);
    }

    [Theory]
    [InlineData("{\"sku\": \"apple\", ")]
    [InlineData("{\"sku\": \"apple\", \"quantity\": \"many\"}")]
    public async Task Start_MalformedInput_ThrowsAndStoresNothing(string json)
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, Register);
        var ex = await Assert.ThrowsAsync<InvalidWorkflowInputException>(() => keel.Client.StartWithJsonAsync("order", json, cancellationToken: TestHost.Token));
        Assert.Contains("'order'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Order", ex.Message, StringComparison.Ordinal);
        Assert.Empty((await keel.Client.ListRunsAsync(cancellationToken: TestHost.Token)).Runs);
    }

    [Fact]
    public async Task Worker_InputThatDoesNotFitTheType_FailsTheRunWithClearError()
    {
        using var db = new TempDatabase();
        // A client that knows no workflows only checks that the input is JSON; the worker checks the type.
        await using (var client = await KeelHost.StartAsync(k => { k.UseSqlite(db.Path); k.RunWorker = false; }, cancellationToken: TestHost.Token))
        {
            await client.Client.StartWithJsonAsync("order", "[1, 2]", new StartWorkflowOptions { RunId = "bad", AllowUnknownWorkflow = true }, TestHost.Token);
        }
        await using var keel = await TestHost.StartAsync(db, Register);
        var run = await keel.Client.WaitForCompletionAsync("bad", TestHost.Token);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(typeof(InvalidWorkflowInputException).FullName, run.Error!.Type);
        Assert.Equal("[1, 2]", run.Input);
    }

    [Fact]
    public async Task UnknownRunId_ClearErrors()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, Register);
        Assert.Null(await keel.Client.GetRunAsync("missing", TestHost.Token));
        var ex = await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.GetJournalAsync("missing", TestHost.Token));
        Assert.Contains("'missing'", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RunNotFoundException>(() => keel.Client.WaitForCompletionAsync("missing", TestHost.Token));
    }

    [Fact]
    public async Task List_FiltersAndPages()
    {
        using var db = new TempDatabase();
        await using var keel = await KeelHost.StartAsync(k => { k.UseSqlite(db.Path); k.RunWorker = false; }, cancellationToken: TestHost.Token);
        for (var i = 0; i < 7; i++)
        {
            await keel.Client.StartWithJsonAsync(i % 2 == 0 ? "even" : "odd", "{}", new StartWorkflowOptions { RunId = $"run-{i}", AllowUnknownWorkflow = true }, TestHost.Token);
        }
        await keel.Client.CancelAsync("run-0", null, TestHost.Token);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await keel.Client.ListRunsAsync(new RunQuery { Limit = 3, Cursor = cursor }, TestHost.Token);
            Assert.True(page.Runs.Count <= 3);
            seen.AddRange(page.Runs.Select(r => r.RunId));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(7, seen.Distinct().Count());

        var even = await keel.Client.ListRunsAsync(new RunQuery { WorkflowName = "even" }, TestHost.Token);
        Assert.Equal(4, even.Runs.Count);
        var cancelled = await keel.Client.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Cancelled] }, TestHost.Token);
        Assert.Equal(["run-0"], cancelled.Runs.Select(r => r.RunId));
        var future = await keel.Client.ListRunsAsync(new RunQuery { CreatedAfter = DateTimeOffset.MaxValue.AddYears(-1) }, TestHost.Token);
        Assert.Empty(future.Runs);
    }

    [Fact]
    public async Task Start_InAProcessWithoutTheWorkflow_IsRefusedUnlessALiveWorkerServesIt_OrTheCallerAllowsIt()
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore();
        var client = KeelClient.Create(store);
        var none = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.StartAsync("order", new Order("a", 1), cancellationToken: TestHost.Token));
        Assert.Contains("(none: no worker has registered)", none.Message, StringComparison.Ordinal);
        Assert.Empty((await client.ListRunsAsync(cancellationToken: TestHost.Token)).Runs);

        await using (var worker = await TestHost.StartAsync(db, Register, options: o => o.BuildId = "build-42"))
        {
            var typo = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => client.StartAsync("ordr", new Order("a", 1), cancellationToken: TestHost.Token));
            Assert.Contains("serves a workflow named 'ordr'. Workflows the workers serve: order.", typo.Message, StringComparison.Ordinal);
            var started = await client.StartAsync("order", new Order("apple", 2), cancellationToken: TestHost.Token);
            Assert.Equal("apple x2", await worker.Client.GetResultAsync<string>(started.RunId, TestHost.Token));

            var registered = Assert.Single(await client.ListWorkersAsync(cancellationToken: TestHost.Token));
            Assert.Equal(["order"], registered.Workflows);
            Assert.Equal((Environment.MachineName, Environment.ProcessId, "build-42"), (registered.Host, registered.ProcessId, registered.Build));
            Assert.Null(registered.StoppedAt);
        }
        var stopped = Assert.Single(await client.ListWorkersAsync(cancellationToken: TestHost.Token));
        Assert.NotNull(stopped.StoppedAt); // a clean stop says so; its workflows still count as served (recently seen)
        await client.StartAsync("order", new Order("pear", 1), cancellationToken: TestHost.Token);
        var queued = await client.StartAsync("not-deployed-yet", 1, new StartWorkflowOptions { AllowUnknownWorkflow = true }, TestHost.Token);
        Assert.Equal(RunStatus.Pending, queued.Run.Status);
    }
}

public class OptionsValidationTests
{
    [Theory]
    [InlineData("MaxConcurrentRuns")]
    [InlineData("LeaseRenewInterval")]
    [InlineData("PollInterval")]
    public async Task InvalidOptions_AreRefusedAtStart_NamingTheSetting(string setting)
    {
        using var db = new TempDatabase();
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestHost.StartAsync(db, _ => { }, options: o =>
        {
            switch (setting)
            {
                case "MaxConcurrentRuns":
                    o.MaxConcurrentRuns = 0;
                    break;
                case "LeaseRenewInterval":
                    o.LeaseRenewInterval = o.LeaseDuration;
                    break;
                default:
                    o.PollInterval = TimeSpan.Zero;
                    break;
            }
        }));
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }
}
