namespace Keel.Tests;

public class RunIdsTests
{
    public static TheoryData<string> Invalid() => new()
    {
        "", " ", "a/b", "a b", "a\tb", "a\nb", "a\u0001b", "a\u007fb", "äpfel", "a%2Fb", "a?b", "a#b", "a\\b", "a,b", "a*b",
        new string('x', RunIds.MaxLength + 1),
    };

    [Theory]
    [InlineData("a")]
    [InlineData("order-42")]
    [InlineData("A.b_c-d~e:f@g+h")]
    [InlineData("0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("parent.3")]
    [InlineData("order~2")]
    public void IsValid_IdsFollowingTheRule_AreValid(string runId)
    {
        Assert.True(RunIds.IsValid(runId));
        Assert.True(RunIds.IsValidExisting(runId));
        RunIds.Validate(runId);
    }

    [Fact]
    public void IsValid_TwoHundredCharacters_IsTheLongestIdAtStart_ButLongerOnesCanNameExistingRuns()
    {
        Assert.True(RunIds.IsValid(new string('x', 200)));
        Assert.False(RunIds.IsValid(new string('x', 201)));
        // A child of a 200-character run is {parent}.{seq}: Keel makes it, and callers must still reach it.
        Assert.True(RunIds.IsValidExisting(new string('x', 200) + ".1"));
        RunIds.ValidateExisting(new string('x', 200) + ".1");
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_IdsBreakingTheRule_ThrowArgumentExceptionQuotingTheRule(string runId)
    {
        Assert.False(RunIds.IsValid(runId));
        var ex = Assert.Throws<ArgumentException>(nameof(runId), () => RunIds.Validate(runId));
        Assert.Contains(RunIds.Rule, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message.Split(" (Parameter", 2)[0]);
    }

    [Fact]
    public void Validate_SaysWhatIsWrong()
    {
        Assert.StartsWith("The run id is empty;", Assert.Throws<ArgumentException>(() => RunIds.Validate("")).Message, StringComparison.Ordinal);
        Assert.StartsWith("'a/b' is not a valid run id: '/' at position 2 is not allowed;",
            Assert.Throws<ArgumentException>(() => RunIds.Validate("a/b")).Message, StringComparison.Ordinal);
        Assert.StartsWith("'a\\u0001b' is not a valid run id: U+0001 at position 2 is not allowed;",
            Assert.Throws<ArgumentException>(() => RunIds.Validate("a\u0001b")).Message, StringComparison.Ordinal);
        Assert.Contains("it is 201 characters long",
            Assert.Throws<ArgumentException>(() => RunIds.Validate(new string('x', 201))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => RunIds.Validate(null));
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task ClientStart_WithAnIdBreakingTheRule_ThrowsAndStoresNothing(string runId)
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore();
        var client = KeelClient.Create(store);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() =>
            client.StartWithJsonAsync("w", "1", new StartWorkflowOptions { RunId = runId }, TestHost.Token));

        Assert.Contains(RunIds.Rule, ex.Message, StringComparison.Ordinal);
        Assert.Empty((await client.ListRunsAsync(cancellationToken: TestHost.Token)).Runs);
    }

    [Fact]
    public async Task ClientCallsNamingARun_WithAnEmptyOrSlashedId_ThrowArgumentExceptionQuotingTheRule()
    {
        using var db = new TempDatabase();
        await using var store = db.CreateStore();
        var client = KeelClient.Create(store);
        var calls = new Func<string, Task>[]
        {
            id => client.GetRunAsync(id, TestHost.Token),
            id => client.GetJournalAsync(id, TestHost.Token),
            id => client.WaitForCompletionAsync(id, TestHost.Token),
            id => client.GetResultAsync<int>(id, TestHost.Token),
            id => client.CancelAsync(id, null, TestHost.Token),
            id => client.PauseAsync(id, TestHost.Token),
            id => client.ResumeAsync(id, TestHost.Token),
            id => client.SetPriorityAsync(id, 1, TestHost.Token),
            id => client.SignalWithJsonAsync(id, "go", null, TestHost.Token),
            id => client.ListPendingApprovalsAsync(id, 10, TestHost.Token),
            id => client.DecideApprovalAsync(id, new ApprovalResponse { Approved = true }, TestHost.Token),
            id => client.ResolveAsync(id, StepResolution.Retry(), TestHost.Token),
        };
        foreach (var call in calls)
        {
            foreach (var id in new[] { "", "a/b", "a b" })
            {
                var ex = await Assert.ThrowsAsync<ArgumentException>(() => call(id));
                Assert.Contains(RunIds.Rule, ex.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task ChildOfARunWithA200CharacterId_HasALongerId_ThatTheClientStillReads()
    {
        using var db = new TempDatabase();
        await using var keel = await TestHost.StartAsync(db, k => k
            .AddWorkflow<int, int>("parent", async (ctx, n) => await ctx.RunChildAsync<int, int>("child", n))
            .AddWorkflow<int, int>("child", (_, n) => Task.FromResult(n * 2)));
        var parent = new string('p', RunIds.MaxLength);

        await keel.Client.StartAsync("parent", 21, new StartWorkflowOptions { RunId = parent }, TestHost.Token);

        Assert.Equal(42, await keel.Client.GetResultAsync<int>(parent, TestHost.Token));
        var child = await keel.Client.GetRunAsync(parent + ".1", TestHost.Token);
        Assert.Equal(RunStatus.Completed, child!.Status);
    }
}
