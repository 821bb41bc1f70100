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
        var table = new TextTable("RUN ID", "WORKFLOW", "STATUS", "TOKENS", "CREATED", "UPDATED");
        foreach (var run in page.Runs)
        {
            // Total tokens of the run's model calls; blank for runs without any (or recorded before totals were kept).
            var tokens = run.Tokens is { } t ? t.TotalTokens.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "";
            table.Add(run.RunId, run.WorkflowName, run.Status.ToString(), tokens,
                TimeFormat.ShortTimestamp(run.CreatedAt), TimeFormat.ShortTimestamp(run.UpdatedAt));
        }
        table.Write(writer);
        if (page.NextCursor is { } cursor)
        {
            writer.WriteLine();
            writer.WriteLine($"More runs: {nextPageCommand} --cursor {cursor}");
        }
    }
}
