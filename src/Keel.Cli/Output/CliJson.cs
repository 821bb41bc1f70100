using System.Text.Json;

namespace Keel.Cli.Output;

/// <summary>The JSON the CLI prints: the HTTP API's settings (<see cref="KeelJson.PayloadsAsValues"/>: inputs, results and
/// payloads as JSON values), indented, and readable by a person as well as a script (a quote stays ', a plus +: the
/// output is never embedded in HTML).</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new(KeelJson.PayloadsAsValues)
    {
        WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write<T>(TextWriter writer, T value) => writer.WriteLine(JsonSerializer.Serialize(value, Options));
}
