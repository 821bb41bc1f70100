namespace Keel.Cli.Tests.Commands;

public class PriorityCommandTests
{
    [Fact]
    public async Task Priority_ChangesPendingRun_RefusesFinishedAndUnknown()
    {
        using var dir = new TempDirectory();
        await using (var keel = await KeelHost.StartAsync(k => { k.UseSqlite(dir.DatabasePath); k.RunWorker = false; },
            cancellationToken: TestContext.Current.CancellationToken))
        {
            await keel.Client.StartWithJsonAsync("w", "{}", new StartWorkflowOptions { RunId = "queued", AllowUnknownWorkflow = true }, TestContext.Current.CancellationToken);
            await keel.Client.StartWithJsonAsync("w", "{}", new StartWorkflowOptions { RunId = "done", AllowUnknownWorkflow = true }, TestContext.Current.CancellationToken);
            await keel.Client.CancelAsync("done", null, TestContext.Current.CancellationToken);
        }

        var ok = await Cli.RunAsync("priority", "queued", "5", "--by", "ada", "--reason", "customer waiting", "--db", dir.DatabasePath);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("now has priority 5", ok.Out, StringComparison.Ordinal);
        var told = await Cli.RunAsync("show", "queued", "--db", dir.DatabasePath);
        Assert.Contains("priority set to 5 by ada: customer waiting", told.Out, StringComparison.Ordinal); // journaled with who and why
        var show = await Cli.RunAsync("show", "queued", "--json", "--db", dir.DatabasePath);
        Assert.Contains("\"priority\": 5", show.Out, StringComparison.Ordinal);

        var finished = await Cli.RunAsync("priority", "done", "5", "--db", dir.DatabasePath);
        Assert.Equal(4, finished.ExitCode);
        Assert.Contains("already finished", finished.Err, StringComparison.Ordinal);
        var unknown = await Cli.RunAsync("priority", "nope", "5", "--db", dir.DatabasePath);
        Assert.Equal(3, unknown.ExitCode);
        var notANumber = await Cli.RunAsync("priority", "queued", "high", "--db", dir.DatabasePath);
        Assert.Equal(2, notANumber.ExitCode);
    }
}
