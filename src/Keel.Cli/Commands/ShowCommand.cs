using System.CommandLine;
using Keel.Cli.Output;
using Keel.Cli.Connection;

namespace Keel.Cli.Commands;

/// <summary><c>keel show RUN_ID</c>: a run's state and its journal as a timeline.</summary>
internal static class ShowCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var runId = new Argument<string>("RUN_ID") { Description = "The run to show." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Then stay, printing each new journal entry and status change as it happens, until the run ends (or Ctrl+C)." };
        var command = new Command("show", "Show a run: status, input, result or error, and its journal as a timeline.") { runId, follow, json };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var keel = await target.OpenAsync(parse, ct);
            var run = await keel.GetExistingRunAsync(id, ct);
            var journal = await keel.GetJournalAsync(id, ct);
            var history = RunHistory.Build(run, journal);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, new { run, journal, history = history with { Run = null } });
                return 0;
            }
            RunView.Write(output.Out, run, history, TokenLine(journal));
            output.Out.WriteLine();
            TimelineView.Write(output.Out, history, journal, run.CreatedAt);
            if (parse.GetValue(follow))
            {
                await FollowAsync(keel, run, journal.Count > 0 ? journal[^1].Index : -1, output.Out, ct);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Prints what the run journals and each change of its status from here on, until it ends.</summary>
    private static async Task FollowAsync(IKeelService client, RunInfo run, long lastIndex, TextWriter output, CancellationToken ct)
    {
        output.WriteLine();
        output.WriteLine($"Following run {run.RunId} (Ctrl+C to stop)...");
        var status = run.Status;
        while (!status.IsTerminal())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), TimeProvider.System, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return; // Ctrl+C: stop following, the run goes on
            }
            foreach (var entry in (await client.GetJournalAsync(run.RunId, ct)).Where(e => e.Index > lastIndex))
            {
                output.WriteLine($"  {entry.Index,4}  {TimeFormat.Relative(entry.RecordedAt, run.CreatedAt),-10} {entry.Kind} {entry.Name}");
                lastIndex = entry.Index;
            }
            var now = await client.GetExistingRunAsync(run.RunId, ct);
            if (now.Status != status)
            {
                status = now.Status;
                output.WriteLine($"  status: {status}{(now.StatusReason is { } why ? $" ({ErrorText.OneLine(why)})" : "")}");
                if (status == RunStatus.Completed)
                {
                    output.WriteLine($"  result: {now.Result}");
                }
                else if (now.Error is { } error)
                {
                    output.WriteLine($"  error: {ErrorText.Describe(error)}");
                }
            }
        }
    }

    /// <summary>"1,234 (input 1,000, output 234) over 5 model calls, gpt-4o", when the run called a model through Keel.AI.</summary>
    private static string? TokenLine(IReadOnlyList<JournalEntry> journal)
    {
        var calls = journal.Select(Keel.AI.KeelClientAIExtensions.ReadModelUsage).OfType<Keel.AI.ModelUsage>().ToList();
        if (calls.Count == 0)
        {
            return null;
        }
        var sum = calls.Aggregate((a, b) => a + b);
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        return string.Create(culture, $"{sum.TotalTokens:N0} (input {sum.InputTokens:N0}, output {sum.OutputTokens:N0}) over {calls.Count} model call{(calls.Count == 1 ? "" : "s")}") +
            (sum.Model is { } model ? $", {model}" : "");
    }
}
