using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>
/// What Keel.AI journals for a model call, as the step's JSON result: the model that answered, the usage, and the
/// response (or, for a streamed call, its updates), in Microsoft.Extensions.AI's own JSON contracts (polymorphic
/// <see cref="AIContent"/>, source-generated, so native AOT works). The prompt is not journaled: every message of it is
/// the run's input, an earlier journaled response or tool result, or built by the workflow code; the step's name
/// carries its hash instead.
/// </summary>
internal static class ChatRecord
{
    private static readonly JsonSerializerOptions s_json = AIJsonUtilities.DefaultOptions;

    public static JsonTypeInfo<ChatResponse> ResponseInfo { get; } = (JsonTypeInfo<ChatResponse>)s_json.GetTypeInfo(typeof(ChatResponse));

    public static JsonTypeInfo<ChatResponseUpdate> UpdateInfo { get; } = (JsonTypeInfo<ChatResponseUpdate>)s_json.GetTypeInfo(typeof(ChatResponseUpdate));

    public static JsonTypeInfo<ChatMessage> MessageInfo { get; } = (JsonTypeInfo<ChatMessage>)s_json.GetTypeInfo(typeof(ChatMessage));

    public static JsonElement Write(ChatResponse response) => Build(writer =>
    {
        WriteHeader(writer, response.ModelId, response.Usage);
        writer.WritePropertyName("response");
        JsonSerializer.Serialize(writer, response, ResponseInfo);
    });

    public static JsonElement Write(IReadOnlyList<ChatResponseUpdate> updates)
    {
        var model = updates.LastOrDefault(u => u.ModelId is not null)?.ModelId;
        UsageDetails? usage = null;
        foreach (var content in updates.SelectMany(u => u.Contents).OfType<UsageContent>())
        {
            (usage ??= new()).Add(content.Details);
        }
        return Build(writer =>
        {
            WriteHeader(writer, model, usage);
            writer.WriteStartArray("updates");
            foreach (var update in updates)
            {
                JsonSerializer.Serialize(writer, update, UpdateInfo);
            }
            writer.WriteEndArray();
        });
    }

    public static ChatResponse ReadResponse(JsonElement record) =>
        record.GetProperty("response").Deserialize(ResponseInfo) ?? throw new JsonException("A journaled chat response is empty.");

    public static List<ChatResponseUpdate> ReadUpdates(JsonElement record)
    {
        var updates = new List<ChatResponseUpdate>();
        foreach (var item in record.GetProperty("updates").EnumerateArray())
        {
            updates.Add(item.Deserialize(UpdateInfo) ?? new ChatResponseUpdate());
        }
        return updates;
    }

    /// <summary>The usage journaled with a model call, or null when the provider reported none (or it is not one).</summary>
    public static ModelUsage? ReadUsage(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object || !record.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var model = record.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        return new ModelUsage(model, Read(usage, "input"), Read(usage, "output"), Read(usage, "total"));

        static long Read(JsonElement usage, string name) => usage.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
    }

    /// <summary>A short hash of what the model is asked: the messages and the options that change the answer.</summary>
    public static string PromptHash(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var message in messages)
            {
                // What the model sees, not the bookkeeping around it: the function-invoking client gives the tool messages
                // it makes a fresh random id on every run, which must not read as a changed prompt.
                var seen = message.Clone();
                seen.MessageId = null;
                seen.CreatedAt = null;
                JsonSerializer.Serialize(writer, seen, MessageInfo);
            }
            writer.WriteStringValue(options?.ModelId);
            writer.WriteStringValue(options?.Instructions);
            foreach (var tool in options?.Tools ?? [])
            {
                writer.WriteStringValue(tool.Name);
            }
            writer.WriteEndArray();
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash[..6]);
    }

    private static void WriteHeader(Utf8JsonWriter writer, string? model, UsageDetails? usage)
    {
        if (model is not null)
        {
            writer.WriteString("model", model);
        }
        if (usage is not null)
        {
            writer.WriteStartObject("usage");
            writer.WriteNumber("input", usage.InputTokenCount ?? 0);
            writer.WriteNumber("output", usage.OutputTokenCount ?? 0);
            writer.WriteNumber("total", usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0));
            writer.WriteEndObject();
        }
    }

    private static JsonElement Build(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
