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
