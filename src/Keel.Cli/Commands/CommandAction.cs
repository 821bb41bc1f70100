using System.CommandLine;
using System.Text.Json;

namespace Keel.Cli.Commands;

/// <summary>
/// Runs a command body and turns expected failures into one line on stderr and their exit code (<see cref="ExitCodes"/>).
/// </summary>
internal static class CommandAction
{
    private const string DebugVariable = "KEEL_CLI_DEBUG";

    public static void Set(Command command, Func<ParseResult, CommandOutput, CancellationToken, Task<int>> body) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, body, cancellationToken));

    private static async Task<int> RunAsync(ParseResult parseResult, Func<ParseResult, CommandOutput, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken)
    {
        var output = new CommandOutput(
            (parseResult.InvocationConfiguration as KeelInvocation)?.Input ?? TextReader.Null,
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error);
        try
        {
            return await body(parseResult, output, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.Error("cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ExitCodeFor(ex) is { } exitCode)
        {
            output.Error(Message(ex));
            if (WantsJson(parseResult))
            {
                Output.ActionReport.WriteError(output.Out, exitCode, Message(ex));
            }
            return exitCode;
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable(DebugVariable) is not "1")
        {
            // A bug, not a user error: still one line, with a way to get the stack trace.
            output.Error($"unexpected {ex.GetType().Name}: {ex.Message} (set {DebugVariable}=1 to see the stack trace)");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Whether the command was given <c>--json</c>: a refusal is then also printed as JSON, on stdout.</summary>
    private static bool WantsJson(ParseResult parseResult) =>
        parseResult.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--json") is Option<bool> json && parseResult.GetValue(json);

    /// <summary>The exit code of an expected failure; null for a bug. The same classes as the HTTP API's statuses.</summary>
    internal static int? ExitCodeFor(Exception exception) => exception switch
    {
        CliException cli => cli.ExitCode,
        RunNotFoundException or WorkflowNotFoundException => ExitCodes.NotFound,
        RunFinishedException or RunStateException or ApprovalNotPendingException or WorkflowAlreadyExistsException => ExitCodes.NotAllowed,
        StorageException => ExitCodes.StoreUnavailable,
        ArgumentException or JsonException or InvalidWorkflowInputException or PayloadTooLargeException or FormatException
            or FileNotFoundException or DirectoryNotFoundException => ExitCodes.BadInput,
        KeelException or IOException or UnauthorizedAccessException => ExitCodes.Failure,
        _ => null,
    };

    /// <summary>The message without the "(Parameter 'x')" suffix, which names a C# parameter the user never saw.</summary>
    private static string Message(Exception exception) =>
        exception is ArgumentException ? exception.Message.Split(" (Parameter '", 2)[0] : exception.Message;
}
