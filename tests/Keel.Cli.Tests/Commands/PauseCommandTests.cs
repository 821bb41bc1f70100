namespace Keel.Cli.Tests.Commands;

public class PauseCommandTests
{
    [Fact]
    public async Task PauseAndResume_QueuedRun_AndClearErrors()
    {
        using var dir = new TempDirectory();
        await using (var keel = await KeelHost.StartAsync(k => { k.UseSqlite(dir.DatabasePath); k.RunWorker = false; },
            cancellationToken: TestContext.Current.CancellationToken))
        {
            await keel.Client.StartWithJsonAsync("w", "{}", new StartWorkflowOptions { RunId = "queued", AllowUnknownWorkflow = true }, TestContext.Current.CancellationToken);
        }

        var pause = await Cli.RunAsync("pause", "queued", "--db", dir.DatabasePath);
        Assert.True(pause.ExitCode == 0, pause.ToString());
        Assert.Contains("Run queued is paused", pause.Out, StringComparison.Ordinal);
        var show = await Cli.RunAsync("show", "queued", "--db", dir.DatabasePath);
        Assert.Matches(@"(?m)^Status\s+Paused$", show.Out);

        var twice = await Cli.RunAsync("pause", "queued", "--db", dir.DatabasePath);
        Assert.Equal(4, twice.ExitCode);
        Assert.Contains("is Paused", twice.Err, StringComparison.Ordinal);

        var resume = await Cli.RunAsync("resume", "queued", "--db", dir.DatabasePath);
        Assert.True(resume.ExitCode == 0, resume.ToString());
        var notPaused = await Cli.RunAsync("resume", "queued", "--db", dir.DatabasePath);
        Assert.Equal(4, notPaused.ExitCode);
        Assert.Contains("not paused", notPaused.Err, StringComparison.Ordinal);
        var unknown = await Cli.RunAsync("pause", "nope", "--db", dir.DatabasePath);
        Assert.Equal(3, unknown.ExitCode);
    }
}
