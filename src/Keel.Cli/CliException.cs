namespace Keel.Cli;

/// <summary>A failure the user can fix (bad path, bad argument); printed as one line, without a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
