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
        var command = new Command("demo",
            "Run a research agent, kill its worker with SIGKILL halfway, resume it in a new worker, and show that no finished step ran twice.")
        {
            db, stepDelay,
        };
        CommandAction.Set(command, (parse, output, ct) =>
            new DemoRunner(parse.GetValue(db)!, parse.GetValue(stepDelay), output).RunAsync(ct));
        return command;
    }
}
