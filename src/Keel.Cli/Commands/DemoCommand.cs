using System.CommandLine;
using Keel.Cli.Demo;

namespace Keel.Cli.Commands;

/// <summary><c>keel demo</c>: a research agent survives a SIGKILL mid-run; see <see cref="DemoRunner"/>.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var stepDelay = CliOptions.StepDelay(DemoSettings.DefaultStepDelayMs);
        var interactive = new Option<bool>("--interactive") { Description = "Wait for you to approve publishing the report (keel approve), instead of approving it after a short pause." };
        var command = new Command("demo",
            "Run a research agent, kill its worker with SIGKILL halfway, resume it in a new worker, approve its report, and show that no finished step ran twice.")
        {
            db, stepDelay, interactive,
        };
        CommandAction.Set(command, (parse, output, ct) =>
            new DemoRunner(parse.GetValue(db)!, parse.GetValue(stepDelay), parse.GetValue(interactive), output).RunAsync(ct));
        return command;
    }
}
