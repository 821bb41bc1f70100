using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Keel.Engine;

/// <summary>
/// The JSON kinds of value a type can be read from ("object", "array", "string", "number", "boolean", "null"), so a
/// store can refuse a signal of another kind at send time (<see cref="Storage.RunTransition.SignalPayloadKinds"/>). Only
/// what is certain is said: a type read by a custom converter, an enum, a date or any other value read from text gives
/// null (no check), and the wait still sets aside what does not read when it takes it.
/// </summary>
internal static class JsonKinds
{
    public static IReadOnlyList<string>? For(Type type, JsonSerializerOptions options)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        var core = underlying ?? type;
        if (core == typeof(object) || core == typeof(JsonElement) || core == typeof(JsonDocument) || typeof(JsonNode).IsAssignableFrom(core))
        {
            return null;
        }
        List<string> kinds;
        if (core == typeof(string))
        {
            kinds = ["string"];
        }
        else if (core == typeof(bool))
        {
            kinds = ["boolean"];
        }
        else if (IsNumber(core))
        {
            kinds = (options.NumberHandling & JsonNumberHandling.AllowReadingFromString) != 0 ? ["number", "string"] : ["number"];
        }
        else
        {
            switch (KeelJson.TypeInfo(options, core).Kind)
            {
                case JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary:
                    kinds = ["object"];
                    break;
                case JsonTypeInfoKind.Enumerable:
                    kinds = ["array"];
                    break;
                default:
                    return null;
            }
        }
        if (!type.IsValueType || underlying is not null)
        {
            kinds.Add("null");
        }
        return kinds;
    }

    private static bool IsNumber(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(sbyte)
        || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(float) || type == typeof(double)
        || type == typeof(decimal) || type == typeof(Int128) || type == typeof(UInt128) || type == typeof(Half);
}
