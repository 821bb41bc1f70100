using System.CommandLine;

namespace Keel.Cli.Commands;

/// <summary>Runs a command body and turns expected failures into one line on stderr and a non-zero exit code.</summary>
internal static class CommandAction
{
    public const int Failure = 1;
    public const int Unexpected = 2;
    public const int Cancelled = 130;
    private const string DebugVariable = "KEEL_CLI_DEBUG";

    public static void Set(Command command, Func<ParseResult, CommandOutput, CancellationToken, Task<int>> body) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, body, cancellationToken));

    private static async Task<int> RunAsync(ParseResult parseResult, Func<ParseResult, CommandOutput, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken)
    {
        var output = new CommandOutput(
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error);
        try
        {
            return await body(parseResult, output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.Error("cancelled");
            return Cancelled;
        }
        catch (Exception ex) when (ex is KeelException or CliException or IOException or UnauthorizedAccessException)
        {
            output.Error(ex.Message);
            return Failure;
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable(DebugVariable) is not "1")
        {
            // A bug, not a user error: still one line, with a way to get the stack trace.
            output.Error($"unexpected {ex.GetType().Name}: {ex.Message} (set {DebugVariable}=1 to see the stack trace)");
            return Unexpected;
        }
    }
}
