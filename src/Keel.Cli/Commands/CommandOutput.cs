namespace Keel.Cli.Commands;

/// <summary>Where a command reads (stdin, for payloads given as <c>-</c>) and writes: normal output and one-line errors.</summary>
internal sealed class CommandOutput(TextReader stdin, TextWriter stdout, TextWriter stderr)
{
    public TextReader In { get; } = stdin;

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
