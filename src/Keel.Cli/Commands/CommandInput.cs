using System.CommandLine;

namespace Keel.Cli.Commands;

/// <summary>Reads and checks a command's arguments before anything is opened, so that bad input is exit code 2.</summary>
internal static class CommandInput
{
    /// <summary>The run id argument; refused (exit 2) unless it follows <see cref="RunIds.Rule"/>.</summary>
    public static string RunId(ParseResult parse, Argument<string> argument)
    {
        var runId = parse.GetValue(argument) ?? "";
        RunIds.ValidateExisting(runId, "RUN_ID");
        return runId;
    }

    /// <summary>
    /// A JSON argument: the JSON itself, <c>@PATH</c> for a file's contents, or <c>-</c> for stdin, so that payloads
    /// larger than a command line (about 128 KB) can be given. Null when the argument was not given. The JSON itself is
    /// checked by the client.
    /// </summary>
    /// <param name="value">The argument as given.</param>
    /// <param name="name">How error messages name the argument (<c>--args</c>, <c>JSON</c>).</param>
    /// <param name="stdin">Where <c>-</c> reads from.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    public static async Task<string?> ReadJsonAsync(string? value, string name, TextReader stdin, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            return null;
        }
        if (value == "-")
        {
            return await stdin.ReadToEndAsync(cancellationToken);
        }
        if (!value.StartsWith('@'))
        {
            return value;
        }
        if (value.Length == 1)
        {
            throw new CliException($"{name} '@' names no file: give @PATH (such as @payload.json), - for stdin, or the JSON itself.");
        }
        var path = Path.GetFullPath(value[1..]);
        if (!File.Exists(path))
        {
            throw new CliException($"{name} {value}: there is no file at {path}.");
        }
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{name} {value}: {path} cannot be read ({ex.Message}).");
        }
    }
}
