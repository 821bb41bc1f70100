namespace Keel.Cli.Output;

/// <summary>Prints a run's header: what it is, where it is, what went in and what came out.</summary>
internal static class RunView
{
    private const int MaxValueLength = 600;

    public static void Write(TextWriter writer, RunInfo run, RunHistory? history = null, string? tokens = null)
    {
        var table = new TextTable("", "");
        table.Add("Run", run.RunId);
        table.Add("Workflow", run.WorkflowName);
        if (run.ParentRunId is { } parent)
        {
            table.Add("Parent", $"{parent} (this run is its child; keel show {Shell.Quote(parent)})");
        }
        table.Add("Status", run.CancelRequested && !run.Status.IsTerminal() ? $"{run.Status} (cancel requested)" : run.Status.ToString());
        if (run.CustomStatus is { } now)
        {
            var detail = now.Data is null ? "" : $" {Clip(now.Data)}";
            var progress = now.Progress is { } p ? $" [{p.Done}/{p.Total}]" : "";
            table.Add("Now", $"{ErrorText.OneLine(now.Text)}{progress}{detail} (set {TimeFormat.Relative(now.At, run.CreatedAt)})");
        }
        if (history is { Plan: { } plan, Remaining: { } remaining })
        {
            table.Add("Remains", remaining.Count == 0
                ? $"nothing: all {plan.Count} items of its plan are done"
                : $"{string.Join(", ", remaining)} ({remaining.Count} of {plan.Count} items of its plan)");
        }
        if (run.ContinuedAsRunId is { } next)
        {
            table.Add("Continued as", $"{next} (keel show {Shell.Quote(next)})");
        }
        table.Add("Created", TimeFormat.Timestamp(run.CreatedAt));
        if (run.BuildId is { } build)
        {
            table.Add("Build", $"{build} (the code it started on)");
        }
        table.Add("Updated", $"{TimeFormat.Timestamp(run.UpdatedAt)} ({TimeFormat.Relative(run.UpdatedAt, run.CreatedAt)})");
        if (run.CompletedAt is { } completed)
        {
            table.Add("Completed", $"{TimeFormat.Timestamp(completed)} ({TimeFormat.Relative(completed, run.CreatedAt)})");
        }
        table.Add("Input", run.Input is null ? "(none)" : Clip(run.Input));
        if (run.Result is not null)
        {
            table.Add("Result", Clip(run.Result));
        }
        if (tokens is not null)
        {
            table.Add("Tokens", tokens);
        }
        if (run.Error is { } error)
        {
            table.Add("Error", ErrorText.Describe(error));
        }
        if (history?.Attention is { } attention && run.Status == RunStatus.NeedsAttention)
        {
            // From the journal's structured reason (an older run's text without the command it embedded), then the
            // CLI's own way to decide it.
            table.Add("Reason", AttentionText.OneLine(attention));
            table.Add("Next", AttentionText.Resolve(run.RunId));
            table.Add("", AttentionText.Choices(attention.Reason));
        }
        else if (run.StatusReason is { } reason)
        {
            table.Add("Reason", ErrorText.OneLine(reason));
        }
        if (run.StuckChild is { } child)
        {
            table.Add("Stuck", ErrorText.OneLine(child.ToString()));
        }
        if (run.Owner is { } owner && !run.Status.IsTerminal())
        {
            table.Add("Worker", owner);
        }
        if (run.RecoveryAttempts > 0 && !run.Status.IsTerminal())
        {
            table.Add("Recoveries", run.RecoveryAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        table.Write(writer, header: false);
    }

    /// <summary>Keeps long JSON readable; <c>--json</c> prints it all.</summary>
    private static string Clip(string json) =>
        json.Length <= MaxValueLength ? json : $"{json[..MaxValueLength]}… ({json.Length} chars; --json prints all)";
}
