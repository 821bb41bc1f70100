using System.CommandLine;
using Keel.Cli.Output;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Cli.Connection;

namespace Keel.Cli.Commands;

/// <summary><c>keel pending</c> (approvals waiting across runs) and <c>keel approve RUN_ID</c>.</summary>
internal static class ApprovalCommands
{
    public static Command CreatePending()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var limit = new Option<int>("--limit") { Description = "At most this many (1 to 1000).", HelpName = "N", DefaultValueFactory = _ => 100 };
        limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1000)
            {
                r.AddError("--limit must be between 1 and 1000.");
            }
        });
        var command = new Command("pending", "List approvals waiting for a person, oldest first, with how long each has waited.") { limit, json };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            await using var keel = await target.OpenAsync(parse, ct);
            var pending = await keel.ListPendingApprovalsAsync(null, parse.GetValue(limit), ct);
            if (parse.GetValue(json))
            {
                CliJson.Write(output.Out, pending);
                return 0;
            }
            if (pending.Count == 0)
            {
                output.Out.WriteLine("No approval is waiting.");
                return 0;
            }
            var now = TimeProvider.System.GetUtcNow();
            var table = new TextTable("RUN", "WORKFLOW", "APPROVAL", "WAITING", "DEADLINE", "TITLE", "ARGUMENTS");
            foreach (var p in pending)
            {
                table.Add(p.RunId, p.WorkflowName, p.Name, TimeFormat.Duration(p.WaitingFor(now)),
                    p.Deadline is { } d ? (d > now ? $"in {TimeFormat.Duration(d - now)}" : "passed") : "",
                    ErrorText.Truncate(p.Title, 60), ErrorText.Truncate(ErrorText.OneLine(p.ArgumentsJson), 60));
            }
            table.Write(output.Out, "");
            output.Out.WriteLine();
            var first = pending[0];
            var run = Shell.Quote(first.RunId) + keel.Arguments;
            output.Out.WriteLine($"Decide: keel approve {run} --by NAME [--comment TEXT] [--args JSON]   or   keel approve {run} --reject --by NAME --comment TEXT");
            return 0;
        });
        return command;
    }

    public static Command CreateApprove()
    {
        var target = new TargetOptions();
        var json = CliOptions.Json();
        var runId = new Argument<string>("RUN_ID") { Description = "The run whose approval to decide." };
        var reject = new Option<bool>("--reject") { Description = "Reject instead of approving." };
        var comment = new Option<string?>("--comment") { Description = "Why, for the record and for the workflow.", HelpName = "TEXT" };
        var by = new Option<string?>("--by")
        {
            Description = "Who decides (default: $USER).",
            HelpName = "NAME",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("USER") is { Length: > 0 } user ? user : null,
        };
        var args = new Option<string?>("--args")
        {
            Description = "Edited arguments as JSON (@PATH reads a file, - stdin): the workflow acts on these instead of the proposed ones.",
            HelpName = "JSON",
        };
        var option = new Option<string?>("--option") { Description = "One of the options the request offers.", HelpName = "OPTION" };
        var name = new Option<string?>("--name") { Description = "Which approval, when the run waits for several (default: its oldest).", HelpName = "APPROVAL" };
        var command = new Command("approve", "Approve (or --reject) an approval a run waits for; the decision is journaled with who, when and why.")
        {
            runId, reject, comment, by, args, option, name, json,
        };
        target.AddTo(command);
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var id = CommandInput.RunId(parse, runId);
            var edited = await CommandInput.ReadJsonAsync(parse.GetValue(args), "--args", output.In, ct);
            await using var keel = await target.OpenAsync(parse, ct);
            var approved = !parse.GetValue(reject);
            var approval = await keel.DecideApprovalAsync(id, new ApprovalResponse
            {
                Approved = approved, By = parse.GetValue(by), Comment = parse.GetValue(comment), ArgumentsJson = edited,
                Option = parse.GetValue(option), ApprovalName = parse.GetValue(name),
            }, ct);
            return await ActionReport.WriteAsync(output, parse.GetValue(json), approved ? "approve" : "reject", id,
                $"{(approved ? "Approved" : "Rejected")} '{approval.Name}' of run {id}" + (edited is not null ? " with edited arguments" : "") + ". The run continues.",
                keel, ct, new JsonObject { ["approval"] = JsonSerializer.SerializeToNode(approval, CliJson.Options) });
        });
        return command;
    }
}
