using System.Globalization;
using Keel.Cli.Output;

namespace Keel.Cli.Demo;

/// <summary>What the demo prints once the run has finished: result, executions, the exactly-once check, retries, hints.</summary>
internal static class DemoReport
{
    public static void WriteResult(TextWriter writer, RunInfo run)
    {
        writer.WriteLine("Result");
        var report = run.GetResult<ResearchReport>(KeelJson.Default);
        if (report is null)
        {
            writer.WriteLine("  (no result recorded)");
            return;
        }
        writer.WriteLine($"  question  {report.Question}");
        writer.WriteLine($"  answer    {report.Summary}");
        foreach (var finding in report.Findings)
        {
            writer.WriteLine($"  - {finding}");
        }
        if (report.Decision is { } decision)
        {
            writer.WriteLine($"  publish   {decision} ({(report.PublishedTo is { } channel ? $"posted to {channel}" : "not posted")})");
        }
    }

    public static void WriteExecutions(TextWriter writer, IReadOnlyList<StepExecution> executions, IReadOnlyList<WorkerProcess> workers, string effectsLog)
    {
        writer.WriteLine($"Step body executions, from the effects log ({effectsLog})");
        var table = new TextTable("STEP", "ATTEMPT", "RAN IN");
        foreach (var execution in executions)
        {
            var worker = workers.FirstOrDefault(w => w.ProcessId == execution.ProcessId);
            table.Add(execution.Step, execution.Attempt.ToString(CultureInfo.InvariantCulture),
                worker?.Label ?? string.Create(CultureInfo.InvariantCulture, $"pid {execution.ProcessId}"));
        }
        table.Write(writer, "  ");
    }

    /// <summary>Prints the check that no step completed before the crash ran again; returns whether it passed.</summary>
    public static bool WriteExactlyOnceCheck(TextWriter writer, IReadOnlyList<string> completedBeforeCrash, IReadOnlyList<StepExecution> executions)
    {
        var repeated = completedBeforeCrash
            .Select(step => (Step: step, Runs: executions.Count(e => e.Step == step)))
            .Where(s => s.Runs != 1)
            .ToList();
        if (repeated.Count == 0)
        {
            writer.WriteLine($"✓ No completed step ran again after the crash: {string.Join(", ", completedBeforeCrash)}");
            return true;
        }
        writer.WriteLine($"✗ CHECK FAILED: steps completed before the crash did not run exactly once: " +
                         string.Join(", ", repeated.Select(r => $"{r.Step} ran {r.Runs} time(s)")));
        return false;
    }

    public static void WriteResumedAttempt(TextWriter writer, IReadOnlyList<StepExecution> executions, WorkerProcess second)
    {
        var resumed = executions.FirstOrDefault(e => e.Step == CrashPoint.FlakyStep && e.ProcessId == second.ProcessId);
        if (resumed is not null)
        {
            writer.WriteLine($"✓ {CrashPoint.FlakyStep} resumed at attempt {resumed.Attempt} in worker {second.Number}: the retry count and backoff survived the crash");
        }
    }

    public static void WriteRetryHistory(TextWriter writer, RunHistory history, DateTimeOffset origin)
    {
        writer.WriteLine($"Retry history of {CrashPoint.FlakyStep}, from the journal");
        var table = new TextTable("ATTEMPT", "OUTCOME", "RETRY AT", "DETAIL");
        foreach (var step in history.Operations.Where(o => o.Kind == OperationKind.Step && o.Name == CrashPoint.FlakyStep))
        {
            foreach (var attempt in step.Attempts)
            {
                var number = attempt.Number.ToString(CultureInfo.InvariantCulture);
                var detail = attempt.Error is { } e ? ErrorText.Describe(e) : "";
                switch (attempt.Outcome)
                {
                    case AttemptOutcome.Failed:
                        table.Add(number, "failed", attempt.RetryAt is { } at ? TimeFormat.Relative(at, origin) : "?", detail);
                        break;
                    case AttemptOutcome.Completed:
                        table.Add(number, "completed", "", Output(step.Result));
                        break;
                    default:
                        table.Add(number, attempt.Outcome.ToString().ToLowerInvariant(), "", detail);
                        break;
                }
            }
        }
        table.Write(writer, "  ");
    }

    public static void WriteHints(TextWriter writer, string runId, string databasePath)
    {
        writer.WriteLine("Look closer:");
        writer.WriteLine($"  keel show {Shell.Quote(runId)} --db {Shell.Quote(databasePath)}");
        writer.WriteLine($"  keel runs --db {Shell.Quote(databasePath)}");
        writer.WriteLine($"  keel pending --db {Shell.Quote(databasePath)}");
    }

    private static string Output(System.Text.Json.JsonElement? payload)
    {
        if (payload is not { } value)
        {
            return "";
        }
        var result = value.ValueKind == System.Text.Json.JsonValueKind.Object ? System.Text.Json.JsonSerializer.Deserialize<ToolResult>(value, KeelJson.Default) : null;
        return result?.Output ?? value.GetRawText();
    }
}
