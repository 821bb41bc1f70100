namespace Keel.Cli.Commands;

/// <summary>Where a command writes: normal output and one-line errors.</summary>
internal sealed class CommandOutput(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Err { get; } = stderr;

    /// <summary>Writes one error line: <c>keel: error: message</c>, flattened to a single line.</summary>
    public void Error(string message)
    {
        var oneLine = message.ReplaceLineEndings(" ").Trim();
        Err.WriteLine($"keel: error: {oneLine}");
        Err.Flush();
    }
}
