using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Keel.Storage;

/// <summary>
/// The JSON a store keeps for Keel's own values (errors, custom statuses, lists of names or ids), as the built-in stores
/// write it. Resolved from source-generated metadata, so a store using it works in a native AOT app.
/// </summary>
public static class StoreJson
{
    private static readonly JsonTypeInfo<ErrorInfo> s_error = KeelJson.TypeInfo<ErrorInfo>(KeelJson.Default);
    private static readonly JsonTypeInfo<RunCustomStatus> s_custom = KeelJson.TypeInfo<RunCustomStatus>(KeelJson.Default);
    private static readonly JsonTypeInfo<IEnumerable<string>> s_strings = KeelJson.TypeInfo<IEnumerable<string>>(KeelJson.Default);
    private static readonly JsonTypeInfo<IEnumerable<long>> s_longs = KeelJson.TypeInfo<IEnumerable<long>>(KeelJson.Default);
    private static readonly JsonTypeInfo<string[]> s_array = KeelJson.TypeInfo<string[]>(KeelJson.Default);
    private static readonly JsonTypeInfo<IReadOnlyDictionary<string, IReadOnlyList<string>>> s_kinds =
        KeelJson.TypeInfo<IReadOnlyDictionary<string, IReadOnlyList<string>>>(KeelJson.Default);

    /// <summary>The JSON kinds of payload a released run accepts, by signal name, as stores keep them
    /// (<see cref="RunTransition.SignalPayloadKinds"/>); null when no name has a known type.</summary>
    /// <param name="kindsByName">For each signal name, the kinds its payload may have.</param>
    /// <returns>The JSON, or null.</returns>
    public static string? SignalKinds(IReadOnlyDictionary<string, IReadOnlyList<string>> kindsByName)
    {
        ArgumentNullException.ThrowIfNull(kindsByName);
        return kindsByName.Count == 0 ? null : JsonSerializer.Serialize(kindsByName, s_kinds);
    }

    /// <summary>
    /// Whether a signal fits the kinds a released run accepts for its name (<see cref="SignalKinds"/>): true when the run
    /// keeps none, keeps none for that name, the signal has no payload, or the payload's kind is listed. The payload must
    /// be valid JSON (clients check it): its kind is told by its first character.
    /// </summary>
    /// <param name="signalKinds">The run's kept kinds, or null.</param>
    /// <param name="name">The signal's name.</param>
    /// <param name="payload">The payload, or null.</param>
    /// <returns>False when the payload is of a kind the run's waiting code cannot read.</returns>
    public static bool SignalFits(string? signalKinds, string name, string? payload)
    {
        if (signalKinds is null || payload is null || JsonSerializer.Deserialize(signalKinds, s_kinds) is not { } kinds
            || !kinds.TryGetValue(name, out var accepted))
        {
            return true;
        }
        return accepted.Contains(KindOf(payload), StringComparer.Ordinal);
    }

    /// <summary>The JSON kind of a valid JSON text: "object", "array", "string", "boolean", "null" or "number".</summary>
    /// <param name="json">Valid JSON.</param>
    /// <returns>The kind.</returns>
    public static string KindOf(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        foreach (var c in json)
        {
            switch (c)
            {
                case ' ' or '\t' or '\r' or '\n':
                    continue;
                case '{':
                    return "object";
                case '[':
                    return "array";
                case '"':
                    return "string";
                case 't' or 'f':
                    return "boolean";
                case 'n':
                    return "null";
                default:
                    return "number";
            }
        }
        return "null";
    }

    /// <summary>Reads a list of names as <see cref="Serialize(IEnumerable{string})"/> wrote it.</summary>
    /// <param name="json">The JSON array.</param>
    /// <returns>The names.</returns>
    public static IReadOnlyList<string> ReadStrings(string json) => JsonSerializer.Deserialize(json, s_array) ?? [];

    /// <summary>
    /// Reads a stuck child (<see cref="RunInfo.StuckChild"/>) from a JSON array [run id, status, reason], as the built-in
    /// stores compute it with their JSON functions; null when the text is null or not such an array.
    /// </summary>
    /// <param name="json">The array.</param>
    /// <returns>The child, or null.</returns>
    public static StuckChildRun? ReadStuckChild(string? json)
    {
        if (json is null)
        {
            return null;
        }
        var parts = JsonSerializer.Deserialize(json, s_array);
        return parts is [{ } runId, { } status, var reason] && Enum.TryParse<RunStatus>(status, out var parsed)
            ? new StuckChildRun(runId, parsed, reason) : null;
    }

    /// <summary>An error as JSON.</summary>
    /// <param name="error">The error.</param>
    /// <returns>Its JSON.</returns>
    public static string Serialize(ErrorInfo error) => JsonSerializer.Serialize(error, s_error);

    /// <summary>A custom status as JSON.</summary>
    /// <param name="status">The status.</param>
    /// <returns>Its JSON.</returns>
    public static string Serialize(RunCustomStatus status) => JsonSerializer.Serialize(status, s_custom);

    /// <summary>Strings as a JSON array.</summary>
    /// <param name="values">The strings.</param>
    /// <returns>The array.</returns>
    public static string Serialize(IEnumerable<string> values) => JsonSerializer.Serialize(values, s_strings);

    /// <summary>Numbers as a JSON array.</summary>
    /// <param name="values">The numbers.</param>
    /// <returns>The array.</returns>
    public static string Serialize(IEnumerable<long> values) => JsonSerializer.Serialize(values, s_longs);

    /// <summary>Reads an error written by <see cref="Serialize(ErrorInfo)"/>.</summary>
    /// <param name="json">The JSON.</param>
    /// <returns>The error.</returns>
    public static ErrorInfo? ReadError(string json) => JsonSerializer.Deserialize(json, s_error);

    /// <summary>Reads a custom status written by <see cref="Serialize(RunCustomStatus)"/>.</summary>
    /// <param name="json">The JSON.</param>
    /// <returns>The status.</returns>
    public static RunCustomStatus? ReadCustomStatus(string json) => JsonSerializer.Deserialize(json, s_custom);
}
