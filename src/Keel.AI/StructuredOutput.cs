using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Keel.AI;

internal static class StructuredOutput
{
    public const string Prefix = "The model's answer could not be used: ";

    public static T Parse<T>(ChatResponse response, JsonTypeInfo<T> typeInfo, Func<T, string?>? validate)
    {
        var text = Unfence(response.Text);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(text, typeInfo);
        }
        catch (JsonException ex)
        {
            throw new RetryableStepException($"{Prefix}it is not valid JSON for {typeof(T).Name} ({ex.Message})", TimeSpan.Zero, ex);
        }
        if (value is null)
        {
            throw new RetryableStepException($"{Prefix}it is null, not a {typeof(T).Name}.", TimeSpan.Zero);
        }
        if (validate?.Invoke(value) is { } problem)
        {
            throw new RetryableStepException($"{Prefix}{problem}", TimeSpan.Zero);
        }
        return value;
    }

    /// <summary>Models sometimes wrap JSON in a Markdown code fence.</summary>
    private static string Unfence(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = trimmed.IndexOf('\n', StringComparison.Ordinal);
            var end = trimmed.LastIndexOf("```", StringComparison.Ordinal);
            if (firstLine > 0 && end > firstLine)
            {
                return trimmed[(firstLine + 1)..end];
            }
        }
        return trimmed;
    }
}
