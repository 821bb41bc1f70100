using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Keel;

/// <summary>The properties of Keel's public records that hold JSON as text, and how <see cref="KeelJson.PayloadsAsValues"/>
/// writes them: as the JSON values they hold.</summary>
internal static class JsonTextProperties
{
    // (type, JSON name as KeelJson.Default writes it) -> the name it is shown under.
    private static readonly Dictionary<(Type, string), string> s_properties = new()
    {
        [(typeof(RunInfo), "input")] = "input",
        [(typeof(RunInfo), "result")] = "result",
        [(typeof(JournalEntry), "payload")] = "payload",
        [(typeof(RejectedSignal), "payload")] = "payload",
        [(typeof(PendingApproval), "argumentsJson")] = "arguments",
    };

    public static void Modify(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }
        foreach (var property in info.Properties)
        {
            if (property.PropertyType == typeof(string) && s_properties.TryGetValue((info.Type, property.Name), out var name))
            {
                property.CustomConverter = JsonTextConverter.Instance;
                property.Name = name;
            }
        }
    }

    /// <summary>A string of JSON text as the value it holds; any JSON value read back as its text.</summary>
    private sealed class JsonTextConverter : JsonConverter<string>
    {
        public static readonly JsonTextConverter Instance = new();

        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.GetRawText();
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(value);
            }
            catch (JsonException)
            {
                writer.WriteStringValue(value);
                return;
            }
            using (document)
            {
                document.WriteTo(writer); // indented when the writer is
            }
        }
    }
}
