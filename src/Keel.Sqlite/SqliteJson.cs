using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Keel.Sqlite;

/// <summary>
/// The JSON the store writes itself: arrays handed to <c>json_each</c>, and Keel's records (errors, custom statuses)
/// through <see cref="KeelJson.Default"/>. All resolved without reflection, so the store works in a native AOT app.
/// </summary>
internal static class SqliteJson
{
    private static readonly JsonTypeInfo<ErrorInfo> s_error = (JsonTypeInfo<ErrorInfo>)KeelJson.Default.GetTypeInfo(typeof(ErrorInfo));
    private static readonly JsonTypeInfo<RunCustomStatus> s_custom = (JsonTypeInfo<RunCustomStatus>)KeelJson.Default.GetTypeInfo(typeof(RunCustomStatus));

    public static string Array(IEnumerable<string> values) => JsonSerializer.Serialize(values, SqliteJsonContext.Default.IEnumerableString);

    public static string Array(IEnumerable<long> values) => JsonSerializer.Serialize(values, SqliteJsonContext.Default.IEnumerableInt64);

    public static string Error(ErrorInfo error) => JsonSerializer.Serialize(error, s_error);

    public static ErrorInfo? Error(string json) => JsonSerializer.Deserialize(json, s_error);

    public static string CustomStatus(RunCustomStatus status) => JsonSerializer.Serialize(status, s_custom);

    public static RunCustomStatus? CustomStatus(string json) => JsonSerializer.Deserialize(json, s_custom);
}

[JsonSerializable(typeof(IEnumerable<string>))]
[JsonSerializable(typeof(IEnumerable<long>))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
