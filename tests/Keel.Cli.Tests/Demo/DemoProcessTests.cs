using System.Diagnostics;
using Keel.Cli.Demo;

namespace Keel.Cli.Tests.Demo;

/// <summary>Runs the real <c>keel demo</c> as a separate process: it spawns, kills (SIGKILL) and restarts real workers.</summary>
public class DemoProcessTests
{
    [Fact]
    public async Task Demo_RealProcess_WorkerKilledMidRun_NoCompletedStepRunsAgain()
    {
        using var dir = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        var keelDll = Path.Combine(AppContext.BaseDirectory, "Keel.Cli.dll");
        Assert.True(File.Exists(keelDll), $"{keelDll} is missing: the test project references Keel.Cli so that it is copied here.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { "exec", keelDll, "demo", "--db", dir.DatabasePath, "--step-delay-ms", "250" },
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        var output = $"exit {process.ExitCode}\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}";

        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("No completed step ran again after the crash: plan, tool:search-web", output, StringComparison.Ordinal);
        Assert.Matches(@"worker 1 \(pid \d+\) killed with SIGKILL after: plan ✓, tool:search-web ✓, tool:fetch-pricing attempt 1 failed", output);
        var runId = System.Text.RegularExpressions.Regex.Match(output, @"keel show (\S+) --db").Groups[1].Value;
        var executions = EffectsLog.Read(DemoSettings.EffectsLogFor(dir.DatabasePath), runId);
        Assert.Single(executions, e => e.Step == "plan");
        Assert.Single(executions, e => e.Step == "tool:search-web");
        Assert.Equal([1, 2, 3], executions.Where(e => e.Step == "tool:fetch-pricing").Select(e => e.Attempt));
        Assert.Single(executions, e => e.Step == "summarize");
        // The run waited for the approval, released, and published once after it.
        Assert.Contains("The demo approves it now", output, StringComparison.Ordinal);
        Assert.Contains("publish   approved by keel demo (standing in for a person): Looks right; publish it. (posted to #eng-decisions)", output, StringComparison.Ordinal);
        Assert.Single(executions, e => e.Step == "publish-report");
        // Two worker processes ran the bodies, neither of them the demo itself; the first stopped after attempt 1.
        var pids = executions.Select(e => e.ProcessId).Distinct().ToList();
        Assert.Equal(2, pids.Count);
        Assert.DoesNotContain(process.Id, pids);
        Assert.Equal(3, executions.TakeWhile(e => e.ProcessId == pids[0]).Count());
        var run = await TestRuns.GetRunAsync(dir.DatabasePath, runId);
        Assert.Equal(RunStatus.Completed, run!.Status);
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
