namespace Keel.Cli.Output;

/// <summary>Prints a page of runs as a table, newest first, with the command for the next page.</summary>
internal static class RunListView
{
    public static void Write(TextWriter writer, RunPage page, string nextPageCommand)
    {
        if (page.Runs.Count == 0)
        {
            writer.WriteLine("No runs found.");
            return;
        }
        var table = new TextTable("RUN ID", "WORKFLOW", "STATUS", "TOKENS", "CREATED", "UPDATED", "DOING / WHY");
        foreach (var run in page.Runs)
        {
            // Total tokens of the run's model calls; blank for runs without any (or recorded before totals were kept).
            var tokens = run.Tokens is { } t ? t.TotalTokens.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "";
            table.Add(run.RunId, run.WorkflowName, run.Status.ToString(), tokens,
                TimeFormat.ShortTimestamp(run.CreatedAt), TimeFormat.ShortTimestamp(run.UpdatedAt), DoingOrWhy(run));
        }
        table.Write(writer);
        if (page.NextCursor is { } cursor)
        {
            writer.WriteLine();
            writer.WriteLine($"More runs: {nextPageCommand} --cursor {cursor}");
        }
    }

    /// <summary>One short line: why a run that stopped did (its error, its reason), else what it says it is doing.</summary>
    private static string DoingOrWhy(RunInfo run)
    {
        var text = run.Status switch
        {
            RunStatus.Failed or RunStatus.Blocked when run.Error is { } error => ErrorText.Describe(error),
            RunStatus.Completed or RunStatus.Cancelled => run.StatusReason ?? "",
            _ => run.StatusReason ?? run.CustomStatus?.Text ?? "",
        };
        return ErrorText.Truncate(ErrorText.OneLine(text), 60);
    }
}
