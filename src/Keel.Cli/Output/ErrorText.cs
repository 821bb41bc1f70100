namespace Keel.Cli.Output;

/// <summary>Short, one-line renderings of journaled errors.</summary>
internal static class ErrorText
{
    /// <summary>The type's simple name: <c>Keel.RetryableStepException</c> becomes <c>RetryableStepException</c>.</summary>
    public static string ShortType(string type)
    {
        var dot = type.LastIndexOf('.');
        return dot >= 0 && dot < type.Length - 1 ? type[(dot + 1)..] : type;
    }

    public static string Describe(ErrorInfo error) => $"{ShortType(error.Type)}: {OneLine(error.Message)}";

    public static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    public static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
