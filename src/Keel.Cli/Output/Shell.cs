namespace Keel.Cli.Output;

/// <summary>Quotes values for the shell commands the CLI suggests.</summary>
internal static class Shell
{
    public static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or '\\' or ';' or '&' or '|' or '*' or '?')
            ? value
            : $"'{value.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
