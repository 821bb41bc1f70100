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
        var keelDll = Path.Combine(AppContext.BaseDirectory, "Keel.Tool.dll");
        Assert.True(File.Exists(keelDll), $"{keelDll} is missing: the test project references Keel.Tool so that it is copied here.");
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
        Assert.Contains("No model turn was asked again and no tool ran again after the crash: model:turn-1, tool:lookup_customer, model:turn-2, tool:refund each happened once", output, StringComparison.Ordinal);
        Assert.Matches(@"worker 1 \(pid \d+\) killed with SIGKILL after: model turn 1 ✓, tool lookup_customer ✓, model turn 2 ✓ \(attempt 2\), approval of refund decided, tool refund ✓", output);
        var runId = System.Text.RegularExpressions.Regex.Match(output, @"keel show (\S+) --db").Groups[1].Value;
        var executions = EffectsLog.Read(DemoSettings.EffectsLogFor(dir.DatabasePath), runId);
        // Each model answer and each tool execution happened once: turn 2 after a 429, turn 3 after a timeout.
        Assert.Equal(["model:turn-1/1", "tool:lookup_customer/1", "model:turn-2/2", "tool:refund/1"],
            executions.Take(4).Select(e => $"{e.Step}/{e.Attempt}"));
        Assert.Equal("model:turn-3", executions[4].Step);
        Assert.Equal(5, executions.Count);
        Assert.Contains("The demo approves it now", output, StringComparison.Ordinal);
        Assert.Contains("says: Hi Ada, I'm sorry your headphones arrived damaged. I have refunded 49.99 USD on A-1042", output, StringComparison.Ordinal);
        Assert.Matches(@"tokens  \d+ in total", output);
        Assert.Contains("model turn 2  1        RetryableStepException: The model provider is rate limiting (429)", output, StringComparison.Ordinal);
        Assert.Contains("timed out", output, StringComparison.Ordinal);
        // Two worker processes did the work, neither of them the demo itself; the first was killed after the refund.
        var pids = executions.Select(e => e.ProcessId).Distinct().ToList();
        Assert.Equal(2, pids.Count);
        Assert.DoesNotContain(process.Id, pids);
        Assert.Equal(4, executions.TakeWhile(e => e.ProcessId == pids[0]).Count());
        var run = await TestRuns.GetRunAsync(dir.DatabasePath, runId);
        Assert.Equal(RunStatus.Completed, run!.Status);
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
