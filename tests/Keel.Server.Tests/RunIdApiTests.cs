namespace Keel.Server.Tests;

/// <summary>Run ids follow <see cref="RunIds.Rule"/> in the API too, and ids in routes are decoded before they are used.</summary>
public class RunIdApiTests
{
    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Start_WithAnIdBreakingTheRule_Is400QuotingTheRule_AndStoresNothing(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);

        foreach (var runId in new[] { "a/b", "a b", "", "tab\there", "ünïcode", new string('x', 201) })
        {
            var (status, problem) = await h.PostJsonAsync("api/runs", new { workflow = "greet", input = "ada", runId });
            Assert.True(status == 400, $"runId '{runId}' answered {status}: {problem}");
            Assert.Contains(RunIds.Rule, problem.Str("detail"), StringComparison.Ordinal);
            Assert.DoesNotContain("(Parameter", problem.Str("detail"), StringComparison.Ordinal);
        }

        var (_, all) = await h.GetAsync("api/runs");
        Assert.Empty(all.Runs());
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task RouteIds_AreDecoded_SoAnEncodedSlashIsRefusedByName_AndEncodedAllowedCharactersFindTheRun(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register);
        var (created, _) = await h.PostJsonAsync("api/runs", new { workflow = "greet", input = "ada", runId = "team:a@b+c~1" });
        Assert.Equal(201, created);

        // Kestrel leaves %2F encoded in the path; the API decodes it and names the id the caller meant.
        var (slash, problem) = await h.GetAsync("api/runs/a%2Fb");
        Assert.Equal(400, slash);
        Assert.StartsWith("'a/b' is not a valid run id: '/' at position 2", problem.Str("detail"), StringComparison.Ordinal);
        foreach (var path in new[] { "api/runs/a%2Fb/journal", "api/runs/a%2fb/wait?timeout=0", "api/runs/a%20b" })
        {
            var (status, body) = await h.GetAsync(path);
            Assert.True(status == 400, $"{path} answered {status}: {body}");
            Assert.Contains(RunIds.Rule, body.Str("detail"), StringComparison.Ordinal);
        }
        foreach (var action in new[] { "cancel", "pause", "resume", "resolve", "approvals", "priority", "signals/go" })
        {
            var (status, body) = await h.PostAsync($"api/runs/a%2Fb/{action}", "{}");
            Assert.True(status == 400, $"{action} answered {status}: {body}");
            Assert.Contains("'a/b' is not a valid run id", body.Str("detail"), StringComparison.Ordinal);
        }
        var (filter, filtered) = await h.GetAsync("api/approvals?runId=a%2Fb");
        Assert.Equal(400, filter);
        Assert.Contains(RunIds.Rule, filtered.Str("detail"), StringComparison.Ordinal);

        var (found, run) = await h.GetAsync("api/runs/team%3Aa%40b%2Bc~1/wait?timeout=20");
        Assert.Equal(200, found);
        Assert.Equal("team:a@b+c~1", run.Str("runId"));
        Assert.Equal("\"hello ada\"", run.Raw("result"));
    }

    [Fact]
    public async Task SignalName_InTheRoute_IsDecoded()
    {
        await using var h = await ServerHarness.StartAsync(StoreKind.Sqlite, TestWorkflows.Register);
        await h.PostAsync("api/runs", """{"workflow":"wait-for-go","input":"x","runId":"waiting"}""");

        var (status, stored) = await h.PostAsync("api/runs/waiting/signals/go%2Fnow", "1");

        Assert.Equal(202, status);
        Assert.Equal("go/now", stored.Str("signal"));
    }
}
