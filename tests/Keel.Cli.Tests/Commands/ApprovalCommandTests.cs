using System.Text.Json;

namespace Keel.Cli.Tests.Commands;

public class ApprovalCommandTests
{
    internal sealed record Transfer(string To, int Amount);

    private static void Register(KeelBuilder k) => k
        .AddWorkflow<int, string>("transfer", async (ctx, amount) =>
        {
            var decision = await ctx.RequestApprovalAsync(new ApprovalRequest<Transfer>
            {
                Name = "transfer", Title = $"Send {amount}", Action = "send", Arguments = new Transfer("acct-1", amount), Options = ["now", "tomorrow"],
            });
            if (!decision.IsApproved)
            {
                return $"rejected: {decision.Comment}";
            }
            return await ctx.StepAsync("send", _ => Task.FromResult($"sent {decision.Arguments.Amount} to {decision.Arguments.To} ({decision.Option}) by {decision.DecidedBy}"));
        })
        .AddWorkflow<int, string>("listener", async (ctx, _) => $"got {await ctx.WaitForSignalAsync<int>("number")}");

    [Fact]
    public async Task PendingApproveAndShow_RoundTrip_WithEditedArguments()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, Register);
        var runId = (await keel.Client.StartAsync("transfer", 100, cancellationToken: ct)).RunId;
        CliResult pending = null!;
        await TestRuns.UntilAsync(async () => (pending = await Cli.RunAsync("pending", "--db", dir.DatabasePath)).Out.Contains(runId, StringComparison.Ordinal),
            "keel pending lists the approval");
        Assert.Contains("Send 100", pending.Out, StringComparison.Ordinal);
        Assert.Contains($"keel approve {runId}", pending.Out, StringComparison.Ordinal);
        var badLimit = await Cli.RunAsync("pending", "--db", dir.DatabasePath, "--limit", "0");
        Assert.Equal(2, badLimit.ExitCode);
        Assert.Contains("--limit must be between 1 and 1000", badLimit.Err, StringComparison.Ordinal);
        var json = await Cli.RunAsync("pending", "--db", dir.DatabasePath, "--json");
        Assert.Equal("transfer", JsonDocument.Parse(json.Out).RootElement[0].GetProperty("name").GetString());

        var badOption = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath, "--option", "never");
        Assert.Equal(2, badOption.ExitCode);
        Assert.Contains("now, tomorrow", badOption.Err, StringComparison.Ordinal);
        var badArgs = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath, "--args", "{amount:");
        Assert.Equal(2, badArgs.ExitCode);
        Assert.Contains("not valid JSON", badArgs.Err, StringComparison.Ordinal);
        var wrongName = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath, "--name", "deploy");
        Assert.Equal(4, wrongName.ExitCode);
        Assert.Contains("'transfer'", wrongName.Err, StringComparison.Ordinal);

        var approve = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath, "--by", "alice", "--comment", "half now",
            "--option", "now", "--args", """{"to":"acct-1","amount":50}""");
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Contains("Approved 'transfer'", approve.Out, StringComparison.Ordinal);
        Assert.Equal("sent 50 to acct-1 (now) by alice", await keel.Client.GetResultAsync<string>(runId, ct));

        var show = await Cli.RunAsync("show", runId, "--db", dir.DatabasePath);
        Assert.Contains("approved by alice (\"half now\"), arguments edited: {\"to\":\"acct-1\",\"amount\":100} -> {\"to\":\"acct-1\",\"amount\":50}", show.Out, StringComparison.Ordinal);
        Assert.Contains("send: attempt 1 completed", show.Out, StringComparison.Ordinal);
        Assert.Contains("[gated by approval 'transfer': approved by alice", show.Out, StringComparison.Ordinal);
        var again = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath);
        Assert.Equal(4, again.ExitCode);
        Assert.Contains("already finished", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_AndApproveWithoutAPendingApproval_FailClearly()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, Register);
        var listener = (await keel.Client.StartAsync("listener", 0, cancellationToken: ct)).RunId;
        var none = await Cli.RunAsync("approve", listener, "--db", dir.DatabasePath);
        Assert.Equal(4, none.ExitCode);
        Assert.Contains("not waiting for an approval", none.Err, StringComparison.Ordinal);
        var unknown = await Cli.RunAsync("approve", "nope", "--db", dir.DatabasePath);
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("nope", unknown.Err, StringComparison.Ordinal);

        var runId = (await keel.Client.StartAsync("transfer", 7, cancellationToken: ct)).RunId;
        await TestRuns.UntilAsync(async () => (await keel.Client.ListPendingApprovalsAsync(runId, cancellationToken: ct)).Count > 0, "the approval is pending");
        var rejectWithArgs = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath, "--reject", "--args", "{}");
        Assert.Equal(2, rejectWithArgs.ExitCode);
        Assert.Contains("not a rejection", rejectWithArgs.Err, StringComparison.Ordinal);
        var reject = await Cli.RunAsync("approve", runId, "--db", dir.DatabasePath, "--reject", "--by", "bob", "--comment", "too much");
        Assert.True(reject.ExitCode == 0, reject.ToString());
        Assert.Equal("rejected: too much", await keel.Client.GetResultAsync<string>(runId, ct));
    }

    [Fact]
    public async Task Signal_DeliversThePayload_AndRefusesBadInput()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        await using var keel = await TestRuns.StartHostAsync(dir.DatabasePath, Register);
        var runId = (await keel.Client.StartAsync("listener", 0, cancellationToken: ct)).RunId;

        var malformed = await Cli.RunAsync("signal", runId, "number", "{oops", "--db", dir.DatabasePath);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("not valid JSON", malformed.Err, StringComparison.Ordinal);
        var reserved = await Cli.RunAsync("signal", runId, "keel.approval/1", "1", "--db", dir.DatabasePath);
        Assert.Equal(2, reserved.ExitCode);
        Assert.Contains("reserved", reserved.Err, StringComparison.Ordinal);
        var unknown = await Cli.RunAsync("signal", "nope", "number", "1", "--db", dir.DatabasePath);
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("nope", unknown.Err, StringComparison.Ordinal);
        var missing = await Cli.RunAsync("signal", runId, "--db", dir.DatabasePath);
        Assert.Equal(2, missing.ExitCode);

        var ok = await Cli.RunAsync("signal", runId, "number", "42", "--db", dir.DatabasePath);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("got 42", await keel.Client.GetResultAsync<string>(runId, ct));
        var finished = await Cli.RunAsync("signal", runId, "number", "43", "--db", dir.DatabasePath);
        Assert.Equal(4, finished.ExitCode);
        Assert.Contains("already finished", finished.Err, StringComparison.Ordinal);
    }
}
