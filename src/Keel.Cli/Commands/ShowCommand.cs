using System.CommandLine;
using Keel.Cli.Output;
using Keel.Cli.Storage;

namespace Keel.Cli.Commands;

/// <summary><c>keel show RUN_ID</c>: a run's state and its journal as a timeline.</summary>
internal static class ShowCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var json = CliOptions.Json();
        var runId = new Argument<string>("RUN_ID") { Description = "The run to show." };
        var command = new Command("show", "Show a run: status, input, result or error, and its journal as a timeline.") { runId, db, postgres, json };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            var client = KeelClient.Create(store);
            var run = await client.GetRunAsync(id, ct) ?? throw new RunNotFoundException(id);
            var journal = await client.GetJournalAsync(id, ct);
            var history = RunHistory.Build(run, journal);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, new { run, journal, history = history with { Run = null } });
                return 0;
            }
            RunView.Write(output.Out, run, history, TokenLine(journal));
            output.Out.WriteLine();
            TimelineView.Write(output.Out, history, journal, run.CreatedAt);
            return 0;
        });
        return command;
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
