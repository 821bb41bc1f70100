using System.Text.Json;

namespace Keel.Cli.Output;

/// <summary>The JSON the CLI prints: Keel's own settings (<see cref="KeelJson.Default"/>), indented.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new(KeelJson.Default) { WriteIndented = true };

    public static void Write<T>(TextWriter writer, T value) => writer.WriteLine(JsonSerializer.Serialize(value, Options));
}
