using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Keel;

/// <summary>
/// The rule for run ids, checked wherever an id enters Keel (the client, the <c>keel</c> CLI and the HTTP API): 1 to
/// 200 characters from <c>A-Z a-z 0-9 . _ - ~ : @ +</c>. No <c>/</c>, whitespace or control characters, so an id is
/// safe in a URL path segment, a shell argument and a log line as it is.
/// </summary>
/// <remarks>
/// Ids Keel makes itself keep to the same characters: generated ids are 32 hexadecimal digits, a child run is
/// <c>{parent}.{seq}</c> and a run that continued as new is <c>{stem}~{n}</c>. Those suffixes may take an id past
/// 200 characters, so the length limit applies to the ids callers give when they start a run
/// (<see cref="Validate"/>); calls that name an existing run check the characters only (<see cref="ValidateExisting"/>).
/// </remarks>
public static class RunIds
{
    /// <summary>The most characters a run id given at start may have.</summary>
    public const int MaxLength = 200;

    /// <summary>The rule in words, as error messages quote it.</summary>
    public const string Rule = "a run id is 1 to 200 characters from A-Z a-z 0-9 . _ - ~ : @ + (no '/', whitespace or control characters)";

    /// <summary>Whether <paramref name="runId"/> may be given to start a run: 1 to <see cref="MaxLength"/> allowed characters.</summary>
    /// <param name="runId">The id.</param>
    /// <returns>True when it follows the rule.</returns>
    public static bool IsValid([NotNullWhen(true)] string? runId) => Problem(runId, checkLength: true) is null;

    /// <summary>Whether <paramref name="runId"/> can name an existing run: at least one allowed character, any length.</summary>
    /// <param name="runId">The id.</param>
    /// <returns>True when it has only allowed characters.</returns>
    public static bool IsValidExisting([NotNullWhen(true)] string? runId) => Problem(runId, checkLength: false) is null;

    /// <summary>Refuses an id a caller gives to start a run unless it follows the rule.</summary>
    /// <param name="runId">The id.</param>
    /// <param name="paramName">The parameter named in the exception.</param>
    /// <exception cref="ArgumentNullException"><paramref name="runId"/> is null.</exception>
    /// <exception cref="ArgumentException">It breaks the rule; the message says how and quotes the rule.</exception>
    public static void Validate([NotNull] string? runId, [CallerArgumentExpression(nameof(runId))] string? paramName = null) =>
        Refuse(runId, paramName, checkLength: true);

    /// <summary>Refuses an id that cannot name a run: empty, or with a character outside the rule (any length passes).</summary>
    /// <param name="runId">The id.</param>
    /// <param name="paramName">The parameter named in the exception.</param>
    /// <exception cref="ArgumentNullException"><paramref name="runId"/> is null.</exception>
    /// <exception cref="ArgumentException">It is empty or has a character the rule does not allow.</exception>
    public static void ValidateExisting([NotNull] string? runId, [CallerArgumentExpression(nameof(runId))] string? paramName = null) =>
        Refuse(runId, paramName, checkLength: false);

    private static void Refuse([NotNull] string? runId, string? paramName, bool checkLength)
    {
        ArgumentNullException.ThrowIfNull(runId, paramName);
        if (Problem(runId, checkLength) is { } problem)
        {
            throw new ArgumentException(problem, paramName);
        }
    }

    private static string? Problem(string? runId, bool checkLength)
    {
        if (runId is null)
        {
            return "The run id is missing; " + Rule + ".";
        }
        if (runId.Length == 0)
        {
            return "The run id is empty; " + Rule + ".";
        }
        for (var i = 0; i < runId.Length; i++)
        {
            if (!IsAllowed(runId[i]))
            {
                return $"'{Display(runId)}' is not a valid run id: {Describe(runId[i])} at position {i + 1} is not allowed; {Rule}.";
            }
        }
        return checkLength && runId.Length > MaxLength
            ? $"'{Display(runId)}' is not a valid run id: it is {runId.Length} characters long; {Rule}."
            : null;
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '~' or ':' or '@' or '+';

    private static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c)
        ? $"U+{(int)c:X4}"
        : $"'{c}'";

    /// <summary>The id as a message can show it: on one line, invisible characters spelled out, long ones shortened.</summary>
    private static string Display(string runId)
    {
        var builder = new StringBuilder();
        foreach (var c in runId.Length > 60 ? runId[..60] : runId)
        {
            if (char.IsControl(c) || (char.IsWhiteSpace(c) && c != ' '))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }
        return runId.Length > 60 ? builder.Append('…').ToString() : builder.ToString();
    }
}
