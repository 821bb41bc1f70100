using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel.AI;

/// <summary>Keel.AI's own small JSON contracts, described at compile time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Dictionary<string, long>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
internal sealed partial class AIJson : JsonSerializerContext
{
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<Dictionary<string, long>> LongMap => Default.DictionaryStringInt64;
}
