using Keel.Sqlite;

namespace Keel.Cli.Tests.Commands;

/// <summary>JSON arguments also come from a file (<c>@PATH</c>) or stdin (<c>-</c>): payloads beyond a command line's ~128 KB.</summary>
public class PayloadInputTests
{
    private const int Large = 250 * 1024;

    private static string LargeJson(string member) => $$"""{"{{member}}":"{{new string('x', Large)}}"}""";

    private static async Task<IReadOnlyList<Keel.Storage.StoredSignal>> InboxAsync(string databasePath, string runId)
    {
        await using var store = new SqliteWorkflowStore(new SqliteStoreOptions { Path = databasePath });
        return await store.GetSignalsAsync(runId, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Signal_PayloadFromAFileLargerThan200KB_IsStoredWhole()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");
        var payload = LargeJson("text");
        var file = Path.Combine(dir.Path, "payload.json");
        await File.WriteAllTextAsync(file, payload, TestContext.Current.CancellationToken);

        var result = await Cli.RunAsync("signal", "p-1", "report", "@" + file, "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        var signal = Assert.Single(await InboxAsync(dir.DatabasePath, "p-1"));
        Assert.Equal("report", signal.Name);
        Assert.Equal(payload, signal.Payload);
    }

    [Fact]
    public async Task Signal_PayloadFromStdin_IsStored()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");

        var result = await Cli.RunWithStdinAsync("""{"ok":true}""" + "\n", "signal", "p-1", "go", "-", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""{"ok":true}""" + "\n", Assert.Single(await InboxAsync(dir.DatabasePath, "p-1")).Payload);
    }

    [Fact]
    public async Task Signal_PayloadFileMissing_IsExit2_AndNothingIsSent()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");
        var missing = Path.Combine(dir.Path, "nope.json");

        var result = await Cli.RunAsync("signal", "p-1", "go", "@" + missing, "--db", dir.DatabasePath);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"keel: error: JSON @{missing}: there is no file at {missing}.\n", result.Err.ReplaceLineEndings("\n"));
        Assert.Empty(await InboxAsync(dir.DatabasePath, "p-1"));
    }

    [Fact]
    public async Task Approve_EditedArgumentsFromAFileLargerThan200KB_ReachTheWorkflow()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, k => k.AddWorkflow<string, int>("review", async (ctx, text) =>
        {
            var decision = await ctx.RequestApprovalAsync(new ApprovalRequest<Draft>
            {
                Name = "publish", Title = "Publish the draft", Action = "publish", Arguments = new Draft(text),
            });
            return decision.Arguments.Text.Length;
        }));
        var runId = (await keel.Client.StartAsync("review", "short", cancellationToken: ct)).RunId;
        await TestRuns.UntilAsync(async () => (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: ct)).Count > 0, "the approval is pending");
        var file = Path.Combine(dir.Path, "draft.json");
        await File.WriteAllTextAsync(file, LargeJson("text"), ct);

        var result = await Cli.RunAsync("approve", runId, "--by", "ed", "--args", "@" + file, "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("with edited arguments", result.Out, StringComparison.Ordinal);
        Assert.Equal(Large, await keel.Client.GetResultAsync<int>(runId, ct));
    }

    [Fact]
    public async Task Resolve_CompleteWithResultFromStdin_CompletesTheStep()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, k => k.AddWorkflow<int, string>("guarded", (ctx, _) =>
            ctx.StepAsync("wire-money", _ => Task.FromResult("wired"), new StepOptions { Requires = [StepGuard.ApprovalGranted("wire")] })));
        var runId = (await keel.Client.StartAsync("guarded", 0, cancellationToken: ct)).RunId;
        await TestRuns.UntilAsync(async () => (await keel.Client.GetRunAsync(runId, ct))!.Status == RunStatus.NeedsAttention, "the run needs attention");

        var result = await Cli.RunWithStdinAsync("\"wired by hand\"", "resolve", runId, "--complete-with", "-", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("wired by hand", await keel.Client.GetResultAsync<string>(runId, ct));
    }

    internal sealed record Draft(string Text);
}
