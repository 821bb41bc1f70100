namespace Keel.Cli;

/// <summary>A failure the user can fix (bad path, bad argument); printed as one line, without a stack trace.</summary>
/// <param name="message">What is wrong and what to do.</param>
/// <param name="exitCode">The exit code; <see cref="ExitCodes.BadInput"/> unless said otherwise.</param>
/// <param name="inner">What was thrown, if anything.</param>
internal sealed class CliException(string message, int exitCode = ExitCodes.BadInput, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
