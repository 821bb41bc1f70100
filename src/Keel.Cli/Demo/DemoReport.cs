using System.Globalization;
using System.Text.Json;
using Keel.AI;
using Keel.Cli.Output;

namespace Keel.Cli.Demo;

/// <summary>What the demo prints once the run has finished: the conversation, executions, the checks, retries, tokens, hints.</summary>
internal static class DemoReport
{
    /// <param name="writer">Where to write.</param>
    /// <param name="journal">The run's journal.</param>
    /// <param name="messages">The run's stored messages (Keel.AI journals model calls and long tool results by their hash).</param>
    /// <param name="origin">The run's start.</param>
    public static void WriteConversation(TextWriter writer, IReadOnlyList<JournalEntry> journal, IReadOnlyDictionary<string, string> messages, DateTimeOffset origin)
    {
        writer.WriteLine("The conversation, from the journal");
        var history = RunHistory.Build(null, journal);
        var decisions = history.Decisions;
        var turn = 0;
        foreach (var entry in journal)
        {
            var at = TimeFormat.Relative(entry.RecordedAt, origin);
            if (history.Events.FirstOrDefault(e => e.Index == entry.Index && e.Kind is RunEventKind.Claimed or RunEventKind.TakenOver) is { Worker: { } worker } held)
            {
                // Who ran the run, from the journal: the crash shows as a worker that stopped without letting go.
                var who = $"worker process {worker.Pid?.ToString(CultureInfo.InvariantCulture) ?? worker.Id}";
                writer.WriteLine(held.Kind == RunEventKind.TakenOver
                    ? $"  {at,-9} {"(crash)",-28} the worker holding the run stopped without letting go; {who} took it over"
                    : $"  {at,-9} {"(worker)",-28} {who} took the run");
            }
            else if (entry.Kind == JournalEntryKind.StepCompleted && entry.Name.StartsWith("chat ", StringComparison.Ordinal))
            {
                turn++;
                foreach (var line in AssistantLines(entry.Payload, messages))
                {
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {at,-9} model (turn {turn}, attempt {entry.Attempt})  {line}"));
                }
            }
            else if (entry.Kind == JournalEntryKind.StepCompleted && entry.Name.StartsWith("tool ", StringComparison.Ordinal))
            {
                writer.WriteLine($"  {at,-9} {entry.Name,-28} {Clip(ToolText(entry.Payload, messages))}");
            }
            else if (decisions.FirstOrDefault(d => d.Kind == DecisionKind.Approval && d.Index == entry.Index) is { } decision)
            {
                writer.WriteLine($"  {at,-9} {"approval " + entry.Name,-28} {ApprovalText.Decision(decision)}");
            }
        }
    }

    public static void WriteResult(TextWriter writer, RunInfo run, ModelUsage usage)
    {
        var reply = run.GetResult<SupportReply>(KeelJson.Default);
        writer.WriteLine("Result");
        writer.WriteLine($"  reply   {reply?.Reply ?? "(none)"}");
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  tokens  {usage.TotalTokens:N0} in total (input {usage.InputTokens:N0}, output {usage.OutputTokens:N0}), as the provider reported them, each model call counted once"));
    }

    public static void WriteExecutions(TextWriter writer, IReadOnlyList<StepExecution> executions, IReadOnlyList<WorkerProcess> workers, string effectsLog)
    {
        writer.WriteLine($"Model answers and tool executions, from the effects log ({effectsLog})");
        var table = new TextTable("WHAT", "ATTEMPT", "RAN IN");
        foreach (var execution in executions)
        {
            var worker = workers.FirstOrDefault(w => w.ProcessId == execution.ProcessId);
            table.Add(execution.Step, execution.Attempt.ToString(CultureInfo.InvariantCulture),
                worker?.Label ?? string.Create(CultureInfo.InvariantCulture, $"pid {execution.ProcessId}"));
        }
        table.Write(writer, "  ");
    }

    /// <summary>Prints the check that no model turn was answered twice and no tool ran twice; returns whether it passed.</summary>
    public static bool WriteExactlyOnceCheck(TextWriter writer, IReadOnlyList<StepExecution> executions, IReadOnlyList<StepExecution> beforeCrash)
    {
        var repeated = executions.GroupBy(e => e.Step).Where(g => g.Count() != 1).Select(g => $"{g.Key} {g.Count()} times").ToList();
        if (repeated.Count == 0)
        {
            writer.WriteLine($"✓ No model turn was asked again and no tool ran again after the crash: {string.Join(", ", beforeCrash.Select(e => e.Step))} each happened once");
            return true;
        }
        writer.WriteLine($"✗ CHECK FAILED: repeated after the crash: {string.Join(", ", repeated)}");
        return false;
    }

    public static void WriteRetryHistory(TextWriter writer, IReadOnlyList<JournalEntry> journal, DateTimeOffset origin)
    {
        writer.WriteLine("What the provider did, from the journal (failed attempts are journaled and retried durably)");
        var table = new TextTable("CALL", "ATTEMPT", "FAILED", "RETRY AT");
        var turns = journal.Where(e => e.Name.StartsWith("chat ", StringComparison.Ordinal)).Select(e => e.Sequence).Distinct().ToList();
        foreach (var entry in journal.Where(e => e.Kind == JournalEntryKind.StepAttemptFailed))
        {
            var call = entry.Name.StartsWith("chat ", StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"model turn {turns.IndexOf(entry.Sequence) + 1}")
                : entry.Name;
            table.Add(call, entry.Attempt.ToString(CultureInfo.InvariantCulture), entry.Error is { } e ? Clip(ErrorText.Describe(e)) : "",
                entry.RetryAt is { } at ? TimeFormat.Relative(at, origin) : "?");
        }
        table.Write(writer, "  ");
    }

    public static void WriteHints(TextWriter writer, string runId, string databasePath)
    {
        writer.WriteLine("Look closer:");
        writer.WriteLine($"  keel show {Shell.Quote(runId)} --db {Shell.Quote(databasePath)}");
        writer.WriteLine($"  keel runs --db {Shell.Quote(databasePath)}");
        writer.WriteLine("  KEEL_OPENAI_ENDPOINT=... KEEL_OPENAI_API_KEY=... KEEL_OPENAI_MODEL=... keel demo   (the same agent on a real model)");
    }

    /// <summary>What the model said in a journaled response: its text, or the tools it called.</summary>
    private static IEnumerable<string> AssistantLines(string? payload, IReadOnlyDictionary<string, string> stored)
    {
        if (payload is null)
        {
            yield break;
        }
        using var document = JsonDocument.Parse(payload);
        var record = document.RootElement;
        List<JsonElement> messages = [];
        if (record.TryGetProperty("response", out var response) && response.TryGetProperty("messages", out var inline))
        {
            messages.AddRange(inline.EnumerateArray()); // as Keel.AI journaled responses before it stored messages by hash
        }
        else if (record.TryGetProperty("keel.messages", out var hashes) && hashes.ValueKind == JsonValueKind.Array)
        {
            foreach (var hash in hashes.EnumerateArray())
            {
                if (stored.TryGetValue(hash.GetString() ?? "", out var json))
                {
                    using var message = JsonDocument.Parse(json);
                    messages.Add(message.RootElement.Clone());
                }
            }
        }
        foreach (var message in messages)
        {
            if (!message.TryGetProperty("contents", out var contents))
            {
                continue;
            }
            foreach (var content in contents.EnumerateArray())
            {
                var type = content.TryGetProperty("$type", out var t) ? t.GetString() : null;
                if (type == "text" && content.TryGetProperty("text", out var text))
                {
                    yield return $"says: {text.GetString()}";
                }
                else if (type == "functionCall")
                {
                    var args = content.TryGetProperty("arguments", out var a) ? a.GetRawText() : "{}";
                    yield return $"calls {content.GetProperty("name").GetString()} {args}";
                }
            }
        }
    }

    private static string ToolText(string? payload, IReadOnlyDictionary<string, string> stored)
    {
        if (payload is null)
        {
            return "";
        }
        using var document = JsonDocument.Parse(payload);
        if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("keel.messages", out var hash)
            && hash.ValueKind == JsonValueKind.String && stored.TryGetValue(hash.GetString()!, out var result))
        {
            return ToolText(result, stored); // a long result, stored once by its hash
        }
        return document.RootElement.ValueKind == JsonValueKind.String ? document.RootElement.GetString()! : payload;
    }

    private static string Clip(string text) => text.Length <= 110 ? text : string.Concat(text.AsSpan(0, 107), "...");
}
