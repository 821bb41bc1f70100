using System.CommandLine;
using Keel.Cli.Demo;

namespace Keel.Cli.Commands;

/// <summary><c>keel demo</c>: a support agent (model calls and tools durable through Keel.AI) survives a SIGKILL mid-conversation; see <see cref="DemoRunner"/>.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var stepDelay = CliOptions.StepDelay(DemoSettings.DefaultStepDelayMs);
        var interactive = new Option<bool>("--interactive") { Description = "Wait for you to approve the refund the agent asks for (keel approve), instead of approving it after a short pause." };
        var command = new Command("demo",
            "Run a support agent on the scripted model (or KEEL_OPENAI_*), approve its refund, kill its worker with SIGKILL mid-conversation, resume it in a new worker, and show that no model turn and no tool call happened twice.")
        {
            db, stepDelay, interactive,
        };
        CommandAction.Set(command, (parse, output, ct) =>
            new DemoRunner(parse.GetValue(db)!, parse.GetValue(stepDelay), parse.GetValue(interactive), output).RunAsync(ct));
        return command;
    }
}
