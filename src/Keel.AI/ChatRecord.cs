using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Keel.Engine;
using Keel.Storage;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>
/// What Keel.AI journals for a model call, as the step's JSON result: the model that answered, the usage, the prompt and the
/// response, in Microsoft.Extensions.AI's own JSON contracts (polymorphic <see cref="AIContent"/>, source-generated, so
/// native AOT works). Messages are stored once each, by the hash of that JSON (<see cref="Keel.Storage.IWorkflowStore.PutMessagesAsync"/>),
/// and the record names them: the prompt as a change from an earlier call of the run (<c>"prompt": {"from": i, "keep": k,
/// "add": [hashes]}</c>: the first <c>k</c> messages of the run's model call number <c>i</c>, counted from 0 in journal
/// order, then <c>add</c>), the response without its messages plus their hashes (<c>"keel.messages"</c>). A 100-turn loop
/// therefore journals a few references per turn, not the conversation per turn.
/// </summary>
/// <remarks>
/// Records written before messages were stored by reference hold the response whole (<c>"response"</c> with its
/// <c>messages</c>) and no prompt; they are read as they are. A streamed call keeps its updates inline (they are what replay
/// yields) and its prompt by reference.
/// </remarks>
internal static class ChatRecord
{
    /// <summary>The property that names stored JSON by hash: a record's list of its response's messages, and, as the only
    /// property of an object with one hash, a function result stored on its own. The engine loads a run's stored messages
    /// before its replay when a journal payload has it.</summary>
    public const string MessagesProperty = Keel.Engine.RunMessages.Marker;

    private static readonly JsonSerializerOptions s_json = AIJsonUtilities.DefaultOptions;

    public static JsonTypeInfo<ChatResponse> ResponseInfo { get; } = (JsonTypeInfo<ChatResponse>)s_json.GetTypeInfo(typeof(ChatResponse));

    public static JsonTypeInfo<ChatResponseUpdate> UpdateInfo { get; } = (JsonTypeInfo<ChatResponseUpdate>)s_json.GetTypeInfo(typeof(ChatResponseUpdate));

    public static JsonTypeInfo<ChatMessage> MessageInfo { get; } = (JsonTypeInfo<ChatMessage>)s_json.GetTypeInfo(typeof(ChatMessage));

    /// <summary>A function result at least this long (as JSON) is stored on its own, once, and referred to by hash from the
    /// tool's step and from the message that gives it to the model.</summary>
    public const int InlineResultBytes = 256;

    // Stored JSON is compact, with M.E.AI's own escaping (relaxed: text stays readable).
    private static readonly JsonWriterOptions s_canonical = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A message as it is stored: its JSON in M.E.AI's contracts (compact), named by the SHA-256 of that JSON. A function
    /// call is stored as the model made it: the function-invoking client marks a call it has handled
    /// <see cref="FunctionCallContent.InformationalOnly"/> in the history it sends next, which is its bookkeeping, not
    /// another message (and a response read back with the mark would not have its calls made). A long function result is
    /// stored on its own (added to <paramref name="blobs"/>), as its tool's step stores it, so it is kept once.
    /// </summary>
    public static StoredMessage ToStored(ChatMessage message, List<StoredMessage> blobs)
    {
        var node = JsonSerializer.SerializeToNode(message, MessageInfo);
        if (node is JsonObject { } root && root["contents"] is JsonArray contents)
        {
            foreach (var content in contents)
            {
                if (content is not JsonObject item)
                {
                    continue;
                }
                if (item["informationalOnly"] is JsonValue flag && flag.TryGetValue<bool>(out var handled) && handled)
                {
                    item["informationalOnly"] = false;
                }
                if (item["$type"] is JsonValue type && type.TryGetValue<string>(out var kind) && kind == "functionResult" && item["result"] is { } result)
                {
                    var bytes = Canonical(result);
                    if (bytes.Length >= InlineResultBytes)
                    {
                        var blob = Blob(bytes);
                        blobs.Add(blob);
                        item["result"] = new JsonObject { [MessagesProperty] = blob.Hash };
                    }
                }
            }
        }
        return Blob(Canonical(node));
    }

    /// <summary>JSON stored by the hash of its bytes.</summary>
    public static StoredMessage Blob(byte[] utf8Json) => new(HashOf(utf8Json), Encoding.UTF8.GetString(utf8Json));

    /// <summary>A JSON value in the compact form that is stored and hashed.</summary>
    public static byte[] Canonical(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, s_canonical))
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A JSON value in the compact form that is stored and hashed.</summary>
    public static byte[] Canonical(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, s_canonical))
        {
            element.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>What a tool's step journals for a result stored on its own: <c>{"keel.messages": "hash"}</c>.</summary>
    public static JsonElement ResultReference(string hash) => Build(writer => writer.WriteString(MessagesProperty, hash));

    /// <summary>A tool step's journaled result: the result itself, or the stored result it refers to.</summary>
    public static JsonElement ReadToolResult(JsonElement journaled, RunMessages? messages)
    {
        if (journaled.ValueKind != JsonValueKind.Object || !journaled.TryGetProperty(MessagesProperty, out var reference)
            || reference.ValueKind != JsonValueKind.String)
        {
            return journaled;
        }
        var hash = reference.GetString() ?? "";
        if (messages is null || !messages.TryGet(hash, out var json))
        {
            throw Missing(hash);
        }
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The hash that names stored JSON: SHA-256 in base64url (43 characters: a journal names many).</summary>
    public static string HashOf(ReadOnlySpan<byte> utf8Json)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8Json, hash);
        return Base64Url.EncodeToString(hash);
    }

    /// <summary>A stored message read back (with the function results it refers to).</summary>
    public static ChatMessage ReadMessage(Func<string, string?> lookup, string hash)
    {
        var json = lookup(hash) ?? throw Missing(hash);
        if (!json.Contains($"\"{MessagesProperty}\"", StringComparison.Ordinal))
        {
            return JsonSerializer.Deserialize(json, MessageInfo) ?? throw new JsonException($"The stored message {hash} is empty.");
        }
        var node = JsonNode.Parse(json);
        if (node?["contents"] is JsonArray contents)
        {
            foreach (var item in contents.OfType<JsonObject>())
            {
                if (item["result"] is JsonObject { Count: 1 } reference && reference[MessagesProperty] is JsonValue value && value.TryGetValue<string>(out var blob))
                {
                    item["result"] = JsonNode.Parse(lookup(blob) ?? throw Missing(blob));
                }
            }
        }
        return node.Deserialize(MessageInfo) ?? throw new JsonException($"The stored message {hash} is empty.");
    }

    private static InvalidOperationException Missing(string hash) =>
        new($"A journaled model or tool call refers to the stored message {hash}, which is not there: it was purged, " +
            "or the archive replayed lacks it (export runs with this version's keel export, which carries their messages).");

    /// <summary>The whole response inline: the record of Keel.AI before messages were stored by reference (and of a run
    /// without a message store).</summary>
    public static JsonElement WriteInline(ChatResponse response) => Build(writer =>
    {
        WriteHeader(writer, response.ModelId, response.Usage);
        writer.WritePropertyName("response");
        JsonSerializer.Serialize(writer, response, ResponseInfo);
    });

    /// <summary>The record of a call whose prompt and response messages are stored (<paramref name="responseHashes"/>).</summary>
    public static JsonElement Write(ChatResponse response, PromptChange prompt, IReadOnlyList<string> responseHashes) => Build(writer =>
    {
        WriteHeader(writer, response.ModelId, response.Usage);
        prompt.Write(writer);
        writer.WriteStartObject("response");
        using (var whole = JsonSerializer.SerializeToDocument(response, ResponseInfo))
        {
            foreach (var property in whole.RootElement.EnumerateObject())
            {
                if (property.NameEquals("messages"))
                {
                    continue; // by reference, below
                }
                property.WriteTo(writer);
            }
        }
        writer.WriteEndObject();
        WriteHashes(writer, MessagesProperty, responseHashes);
    });

    public static JsonElement Write(IReadOnlyList<ChatResponseUpdate> updates, PromptChange? prompt)
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
            prompt?.Write(writer);
            writer.WriteStartArray("updates");
            foreach (var update in updates)
            {
                JsonSerializer.Serialize(writer, update, UpdateInfo);
            }
            writer.WriteEndArray();
            if (prompt is not null)
            {
                WriteHashes(writer, MessagesProperty, []); // the prompt's messages are stored: an export carries them
            }
        });
    }

    /// <summary>The journaled response: inline (older records), or with its messages read from the run's stored messages.</summary>
    public static ChatResponse ReadResponse(JsonElement record, RunMessages? messages = null) =>
        ReadResponse(record, hash => messages is not null && messages.TryGet(hash, out var json) ? json : null);

    /// <summary>The journaled response, its messages looked up by hash.</summary>
    public static ChatResponse ReadResponse(JsonElement record, Func<string, string?> lookup)
    {
        var response = record.GetProperty("response").Deserialize(ResponseInfo) ?? throw new JsonException("A journaled chat response is empty.");
        if (record.TryGetProperty(MessagesProperty, out var hashes) && hashes.ValueKind == JsonValueKind.Array)
        {
            response.Messages = [.. hashes.EnumerateArray().Select(h => ReadMessage(lookup, h.GetString() ?? ""))];
        }
        return response;
    }

    public static List<ChatResponseUpdate> ReadUpdates(JsonElement record)
    {
        var updates = new List<ChatResponseUpdate>();
        foreach (var item in record.GetProperty("updates").EnumerateArray())
        {
            updates.Add(item.Deserialize(UpdateInfo) ?? new ChatResponseUpdate());
        }
        return updates;
    }

    /// <summary>The prompt a record names, as a change from an earlier call; null for a record that names none (older ones).</summary>
    public static PromptChange? ReadPrompt(JsonElement record) =>
        record.ValueKind == JsonValueKind.Object && record.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.Object
            ? PromptChange.Read(prompt)
            : null;

    private static void WriteHashes(Utf8JsonWriter writer, string name, IReadOnlyList<string> hashes)
    {
        writer.WriteStartArray(name);
        foreach (var hash in hashes)
        {
            writer.WriteStringValue(hash);
        }
        writer.WriteEndArray();
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
