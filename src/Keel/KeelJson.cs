using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel;

/// <summary>The JSON settings Keel uses for its own records and, by default, for inputs, results and step outcomes.</summary>
public static class KeelJson
{
    /// <summary>Web defaults (camelCase, case-insensitive reads) with enums as strings.</summary>
    public static JsonSerializerOptions Default { get; } = CreateDefault();

    private static JsonSerializerOptions CreateDefault()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            Converters = { new JsonStringEnumConverter() },
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
