using System.Globalization;
using Keel.Cli.Commands;
using Keel.Cli.Output;
using Keel.Cli.Storage;

namespace Keel.Cli.Demo;

/// <summary>
/// <c>keel demo</c>: starts a support-agent run (an IChatClient agent made durable with UseKeel, on the scripted model
/// unless a provider is configured), has a person (or, without --interactive, the demo standing in for one) approve its
/// refund, kills its worker with SIGKILL while the model drafts the reply, starts a second worker that continues the
/// conversation from the journal, and shows from the effects log that no model turn and no tool call happened twice.
/// </summary>
internal sealed class DemoRunner(string databasePath, int stepDelayMs, bool interactive, CommandOutput output)
{
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(60);
    private readonly string _path = Path.GetFullPath(databasePath);
    private TextWriter Out => output.Out;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await using var store = await KeelDatabase.OpenOrCreateAsync(_path, cancellationToken);
        var client = KeelClient.Create(store);
        var effectsLog = DemoSettings.EffectsLogFor(_path);
        var run = await StartRunAsync(client, cancellationToken);
        var provider = Keel.AI.KeelChatClients.FromConfiguration() is null ? "the scripted model (offline; set KEEL_OPENAI_* for a real one)" : "the configured OpenAI-compatible endpoint";
        Out.WriteLine("Keel demo: a support agent whose worker is killed (SIGKILL) mid-conversation, then resumed by another worker");
        Out.WriteLine($"  database  {_path}");
        Out.WriteLine($"  run       {run.RunId} (workflow {run.WorkflowName}): the model looks the customer up, asks for a refund (AtMostOnce, needs approval), drafts the reply");
        Out.WriteLine($"  model     {provider}; it answers turn 2 with a 429 once and lets turn 3 time out once");
        Out.WriteLine($"  effects   {effectsLog} (each model answer and tool execution appends \"pid what attempt run\")");
        Out.WriteLine();
        var watcher = new JournalWatcher(client, run.RunId, run.CreatedAt, Out);

        await using var first = WorkerProcess.Start(1, _path, run.RunId, stepDelayMs, CrashPoint.Hold);
        Out.WriteLine($"Started {first.Label}; its model call for turn 3 will never return, so the kill below always lands at the same point");
        Out.Flush();
        if (!await watcher.WatchUntilAsync(first, j => IsFinished(j) || AsksApproval(j), PhaseTimeout, cancellationToken))
        {
            return Fail(first, "the first worker did not reach the refund's approval");
        }
        if (AsksApproval(watcher.History) && !await ApproveAsync(client, run.RunId, watcher, first, cancellationToken))
        {
            return Fail(first, "the approval was not decided");
        }
        if (!await watcher.WatchUntilAsync(first, CrashPoint.Reached, PhaseTimeout, cancellationToken))
        {
            return Fail(first, "the first worker did not reach the crash point (the refund done, the reply being drafted)");
        }
        await first.KillAsync();
        var atCrash = await watcher.PollAsync(first, cancellationToken); // anything the worker committed before it died
        var beforeCrash = EffectsLog.Read(effectsLog, run.RunId);
        Out.WriteLine();
        Out.WriteLine($"{first.Label} killed with SIGKILL after: {CrashPoint.Describe(atCrash)}");
        Out.WriteLine();

        await using var second = WorkerProcess.Start(2, _path, run.RunId, stepDelayMs);
        Out.WriteLine($"Started {second.Label}: it replays the journal (no model call, no tool) and continues the conversation");
        Out.Flush();
        if (!await watcher.WatchUntilAsync(second, IsFinished, PhaseTimeout, cancellationToken))
        {
            return Fail(second, "the second worker did not finish the run");
        }
        await WaitForExitAsync(second, cancellationToken);
        var final = await client.GetRunAsync(run.RunId, cancellationToken) ?? throw new RunNotFoundException(run.RunId);
        Out.WriteLine();
        if (final.Status != RunStatus.Completed)
        {
            output.Error($"run {run.RunId} ended {final.Status}: {final.Error?.ToString() ?? final.StatusReason ?? "no reason recorded"}");
            return ExitCodes.Failure;
        }

        var executions = EffectsLog.Read(effectsLog, run.RunId);
        DemoReport.WriteConversation(Out, watcher.Journal, await store.GetRunMessagesAsync(run.RunId, cancellationToken), final.CreatedAt);
        Out.WriteLine();
        DemoReport.WriteResult(Out, final, await Keel.AI.KeelClientAIExtensions.GetTokenUsageAsync(client, run.RunId, cancellationToken));
        Out.WriteLine();
        DemoReport.WriteExecutions(Out, executions, [first, second], effectsLog);
        Out.WriteLine();
        var passed = DemoReport.WriteExactlyOnceCheck(Out, executions, beforeCrash);
        Out.WriteLine();
        DemoReport.WriteRetryHistory(Out, watcher.Journal, final.CreatedAt);
        Out.WriteLine();
        DemoReport.WriteHints(Out, run.RunId, _path);
        Out.Flush();
        return passed ? 0 : ExitCodes.Failure;
    }

    private static bool AsksApproval(RunHistory history) => history.Waits.Any(w => w.Kind == WaitKind.Approval);

    /// <summary>The run waits for a person: with --interactive, for the one at the terminal; otherwise the demo decides.</summary>
    private async Task<bool> ApproveAsync(KeelClient client, string runId, JournalWatcher watcher, WorkerProcess worker, CancellationToken cancellationToken)
    {
        var approve = $"keel approve {Shell.Quote(runId)} --db {Shell.Quote(_path)}";
        Out.WriteLine();
        Out.WriteLine("The run now waits for a person to approve the refund the model asked for. Waiting holds no memory: the run is");
        Out.WriteLine("released (status Waiting) and resumed by whichever worker is running when the decision arrives.");
        Out.WriteLine($"  see what waits:  keel pending --db {Shell.Quote(_path)}");
        Out.WriteLine($"  approve:         {approve} --by YOUR_NAME --comment \"looks right\"");
        Out.WriteLine($"  edit, approve:   {approve} --by YOUR_NAME --args '{{\"orderId\":\"A-1042\",\"cents\":2500}}'");
        Out.WriteLine($"  reject:          {approve} --reject --by YOUR_NAME --comment \"not yet\"");
        Out.Flush();
        if (interactive)
        {
            Out.WriteLine("Waiting for your decision (run one of the commands above in another terminal)...");
            Out.Flush();
            return await watcher.WatchUntilAsync(worker, h => h.Decisions.Any(d => d.Kind == DecisionKind.Approval), TimeSpan.FromDays(1), cancellationToken);
        }
        await Task.Delay(TimeSpan.FromSeconds(1.5), TimeProvider.System, cancellationToken);
        await client.DecideApprovalAsync(runId, new ApprovalResponse
        {
            Approved = true, By = "keel demo (standing in for a person)", Comment = "Damaged on arrival: refund it.",
        }, cancellationToken);
        Out.WriteLine("The demo approves it now, as a person would with the command above (keel demo --interactive waits for you).");
        Out.WriteLine();
        Out.Flush();
        return true;
    }

    private static bool IsFinished(RunHistory history) => history.Ended || history.Events.Any(e => e.Kind == RunEventKind.Blocked);

    private static async Task<RunInfo> StartRunAsync(KeelClient client, CancellationToken cancellationToken)
    {
        var baseId = "demo-" + TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var request = new SupportRequest("ada@example.com", "My headphones (order A-1042) arrived damaged. Can I get my money back?");
        for (var n = 1; ; n++)
        {
            var id = n == 1 ? baseId : string.Create(CultureInfo.InvariantCulture, $"{baseId}-{n}");
            var started = await client.StartAsync(SupportAgentWorkflow.Name, request, new StartWorkflowOptions { RunId = id, AllowUnknownWorkflow = true }, cancellationToken);
            if (started.Created)
            {
                return started.Run;
            }
        }
    }

    private static async Task WaitForExitAsync(WorkerProcess worker, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await worker.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await worker.KillAsync(); // it finished the run; a slow shutdown is not the demo's concern
        }
    }

    private int Fail(WorkerProcess worker, string what)
    {
        var state = worker.HasExited ? $"it exited with code {worker.ExitCode}" : "it was still running and has been killed";
        output.Error($"demo failed: {what}; {state}. Its last output: {worker.RecentOutput}");
        return ExitCodes.Failure;
    }
}
