using System.Text.Json.Serialization;

namespace Keel;

/// <summary>A failure as persisted in the journal: never a serialized exception, only what a person needs.</summary>
/// <param name="Type">The exception's full type name.</param>
/// <param name="Message">The exception's message.</param>
/// <param name="StackTrace">The first frames of the stack trace, if any.</param>
public sealed record ErrorInfo(string Type, string Message, string? StackTrace = null)
{
    private const int MaxStackLines = 8;

    /// <summary>True when the error must not be retried.</summary>
    [JsonPropertyName("terminal")]
    public bool IsTerminal { get; init; }

    /// <summary>Captures an exception, keeping a short stack trace.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The persisted form.</returns>
    public static ErrorInfo FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var stack = exception.StackTrace;
        if (stack is not null)
        {
            var lines = stack.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            stack = string.Join('\n', lines.Take(MaxStackLines));
        }
        if (exception is StepFailedException failed)
        {
            // A run that ends because a step failed reports the step's own error, with where it happened.
            return failed.Error with
            {
                Message = $"step '{failed.StepName}' failed after {failed.Attempts} attempt(s): {failed.Error.Message}",
            };
        }
        return new ErrorInfo(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, stack)
        {
            IsTerminal = exception is TerminalStepException,
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type}: {Message}";
}
