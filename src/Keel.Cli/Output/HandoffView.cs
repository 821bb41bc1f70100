using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keel.Cli.Output;

/// <summary>
/// Prints a <see cref="RunHandoff"/>: one screen a person acts on — goal, state, what ran, was decided and failed, what
/// remains, and the commands to run next — as text, as Markdown for a ticket, or as JSON (the record, each next action
/// with its command).
/// </summary>
internal static class HandoffView
{
    public static JsonNode ToJson(RunHandoff handoff, HandoffCommands commands)
    {
        var node = JsonSerializer.SerializeToNode(handoff, CliJson.Options)!.AsObject();
        var next = node["next"]!.AsArray();
        for (var i = 0; i < handoff.Next.Count; i++)
        {
            next[i]!.AsObject()["command"] = commands.For(handoff.Goal.RunId, handoff.Next[i]);
        }
        return node;
    }

    public static void Write(TextWriter writer, RunHandoff handoff, HandoffCommands commands, bool markdown, DateTimeOffset now)
    {
        var goal = handoff.Goal;
        var origin = goal.CreatedAt;
        var (heading, section, item, code) = markdown
            ? ((Func<string, string>)(t => $"## {t}"), (Func<string, string>)(t => $"\n**{t}**"), (Func<string, string>)(t => $"- {t}"), (Func<string, string>)(t => $"    {t}"))
            : (t => t, t => $"\n{t}", t => $"  - {t}", t => $"    $ {t}");

        writer.WriteLine(heading($"Run {goal.RunId} ({goal.Workflow}): {handoff.State.Status}"));
        writer.WriteLine();
        writer.WriteLine($"Goal: {goal.Workflow} with {goal.InputSummary}");
        writer.WriteLine($"Started: {TimeFormat.ShortTimestamp(origin)}" + (goal.ParentRunId is { } parent ? $", a child of run {parent}" : "") +
                         (goal.BuildId is { } build ? $", build {build}" : ""));
        writer.WriteLine($"State: {handoff.State.Summary}" + (handoff.State.Since is { } since && handoff.State.Status != RunStatus.Completed
            ? $" (for {TimeFormat.Duration(now - since)})" : ""));
        if (handoff.State.Doing is { } doing && handoff.State.Status is RunStatus.Running or RunStatus.Waiting)
        {
            writer.WriteLine($"Doing: {doing.Text}" + (doing.Progress is { } p ? $" ({p.Done} of {p.Total})" : ""));
        }

        writer.WriteLine(section($"Ran ({handoff.Ran.Count})"));
        foreach (var step in handoff.Ran)
        {
            var at = step.EndedAt ?? step.StartedAt;
            writer.WriteLine(item($"{step.Position}. {JournalKinds.Noun(step.Kind)} '{step.Name}': {step.Summary}" +
                                  (at is { } t ? $" at {TimeFormat.Relative(t, origin)}" : "") + (step.Worker is { } w ? $" [worker {w}]" : "")));
        }
        if (handoff.Ran.Count == 0)
        {
            writer.WriteLine(item("nothing yet"));
        }

        writer.WriteLine(section($"Decided ({handoff.Decided.Count})"));
        foreach (var decision in handoff.Decided)
        {
            var who = $" by {decision.By ?? "someone"} at {TimeFormat.Relative(decision.At, origin)}" + (decision.Reason is { } why ? $": {ErrorText.OneLine(why)}" : "");
            var on = decision.Position > 0 ? $"{decision.Name}: " : "";
            writer.WriteLine(item($"{on}{decision.Summary}{who}"));
            foreach (var change in decision.Changes)
            {
                writer.WriteLine(item($"  {change.Path}: {Value(change.From)} -> {Value(change.To)}"));
            }
        }
        if (handoff.Decided.Count == 0)
        {
            writer.WriteLine(item("nothing"));
        }

        writer.WriteLine(section($"Failed ({handoff.Failed.Count})"));
        foreach (var failure in handoff.Failed)
        {
            var what = failure.Kind switch
            {
                FailureKind.Attempt => $"step '{failure.Name}' attempt {failure.Attempt}",
                FailureKind.Operation => $"'{failure.Name}'",
                FailureKind.Worker => $"worker {failure.Name}",
                _ => "the run",
            };
            var at = failure.At is { } t ? $" at {TimeFormat.Relative(t, origin)}" : "";
            writer.WriteLine(item($"{what}{at}: {ErrorText.Truncate(ErrorText.OneLine(failure.Error.Message), 200)}{(failure.Recovered ? " (went on past it)" : "")}"));
        }
        if (handoff.Failed.Count == 0)
        {
            writer.WriteLine(item("nothing"));
        }

        writer.WriteLine(section("Remains"));
        writer.WriteLine(item(handoff.Remains.Summary));

        writer.WriteLine(section("Next"));
        foreach (var action in handoff.Next)
        {
            writer.WriteLine(item(action.Description));
            writer.WriteLine(code(commands.For(goal.RunId, action)));
        }
        if (handoff.Next.Count == 0)
        {
            writer.WriteLine(item("nothing to do: the run has ended"));
        }
        if (handoff.Next.Any(a => a.Needs is not null))
        {
            writer.WriteLine();
            writer.WriteLine($"Replace {HandoffCommands.ResultPlaceholder}, {HandoffCommands.PayloadPlaceholder} and {HandoffCommands.ReasonPlaceholder} " +
                             "with the value (JSON for results and payloads, quoted for the shell) before running a command.");
        }
    }

    private static string Value(JsonElement? value) => value is { } v ? ErrorText.Truncate(v.GetRawText(), 80) : "(none)";
}
