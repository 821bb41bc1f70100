using System.CommandLine;
using Keel.Cli.Demo;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary>
/// <c>keel worker</c> (internal): runs a worker with the demo workflows until stopped, or until one run finishes.
/// <c>keel demo</c> starts it as a child process, and kills it.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var stepDelay = CliOptions.StepDelay(DemoSettings.DefaultStepDelayMs);
        var until = new Option<string?>("--until") { Description = "Exit 0 once this run has finished.", HelpName = "RUN_ID" };
        var holdAt = new Option<StepAttemptRef?>("--hold-at")
        {
            Description = "Make this step attempt hang in this worker (STEP/ATTEMPT, e.g. model:turn-3/1), so a crash can be staged there.",
            HelpName = "STEP/ATTEMPT",
            CustomParser = r =>
            {
                var text = r.Tokens.Single().Value;
                if (StepAttemptRef.TryParse(text, out var value))
                {
                    return value;
                }
                r.AddError($"--hold-at must be STEP/ATTEMPT, such as model:turn-3/1; got '{text}'.");
                return null;
            },
        };
        var command = new Command("worker",
            "Internal, used by `keel demo`: run a worker with the demo workflows (support-agent) until Ctrl+C, or until --until RUN_ID finishes.")
        {
            db, until, stepDelay, holdAt,
        };
        command.Hidden = true; // the demo's own worker processes: not a command for people
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var path = Path.GetFullPath(parse.GetValue(db)!);
            // Create the file and schema first so a bad path fails with the CLI's message, before the host starts.
            await (await KeelDatabase.OpenOrCreateAsync(path, ct)).DisposeAsync();
            await using var host = await DemoWorkerHost.StartAsync(path, TimeSpan.FromMilliseconds(parse.GetValue(stepDelay)),
                parse.GetValue(holdAt), ct);
            output.Out.WriteLine($"worker pid {Environment.ProcessId} running support-agent on {path}");
            output.Out.Flush();
            if (parse.GetValue(until) is not { } runId)
            {
                await WaitForShutdownAsync(ct);
                return 0;
            }
            var run = await host.Client.WaitForCompletionAsync(runId, ct);
            output.Out.WriteLine($"run {runId} is {run.Status}; worker pid {Environment.ProcessId} exits");
            if (run.Status.IsTerminal())
            {
                return 0;
            }
            output.Error($"run {runId} is {run.Status}: {run.StatusReason ?? run.Error?.ToString() ?? "no reason recorded"}");
            return ExitCodes.Failure;
        });
        return command;
    }

    private static async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: disposing the host drains in-flight steps and releases leases.
        }
    }
}
