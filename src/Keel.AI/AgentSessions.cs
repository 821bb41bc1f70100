using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Storage;

namespace Keel.AI;

/// <summary>
/// Agent sessions kept by reference: a session saved at the end of a turn is stored as a snapshot (the session's JSON with
/// each list of messages replaced by the messages' hashes, <c>{"keel.messages": [hashes]}</c>) and the messages once each,
/// by hash; the turn's result, and so the next turn's input, holds only <c>{"keel.messages": "snapshot hash"}</c>. Neither
/// takes a step: the worker loads what a run's input names before its code runs (and links it to the run), and stores
/// what the code staged before the append that may name it (the run's end).
/// </summary>
internal static class AgentSessions
{
    /// <summary>Whether a saved session is a reference to a stored snapshot (sessions saved before are the session itself).</summary>
    public static bool IsReference(JsonElement session, out string hash)
    {
        hash = "";
        if (session.ValueKind == JsonValueKind.Object && session.TryGetProperty(ChatRecord.MessagesProperty, out var reference)
            && reference.ValueKind == JsonValueKind.String && session.EnumerateObject().Count() == 1)
        {
            hash = reference.GetString()!;
            return true;
        }
        return false;
    }

    /// <summary>The session a turn starts from: as it was given, or, for a reference, the snapshot and its messages the
    /// worker loaded before the run's code ran.</summary>
    public static JsonElement Load(WorkflowContext context, JsonElement saved)
    {
        if (!IsReference(saved, out var snapshotHash) || context.Messages is not { } messages)
        {
            return saved;
        }
        string Get(string hash) => messages.TryGet(hash, out var json) ? json
            : throw new InvalidOperationException($"The session to continue names the stored message {hash}, which is not there: " +
                "the turn that saved it was purged (retain finished runs longer than sessions stay idle).");
        var root = Restore(JsonNode.Parse(Get(snapshotHash)));
        return JsonSerializer.SerializeToElement(root, AIJson.Default.JsonNode);

        JsonNode? Restore(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj when obj.Count == 1 && obj[ChatRecord.MessagesProperty] is JsonArray refs:
                    return new JsonArray([.. refs.Select(r => JsonNode.Parse(Get(r!.GetValue<string>())))]);
                case JsonObject obj:
                    foreach (var (name, value) in obj.ToList())
                    {
                        var restored = Restore(value);
                        if (!ReferenceEquals(restored, value))
                        {
                            obj[name] = restored;
                        }
                    }
                    return obj;
                case JsonArray list:
                    for (var i = 0; i < list.Count; i++)
                    {
                        var restored = Restore(list[i]);
                        if (!ReferenceEquals(restored, list[i]))
                        {
                            list[i] = restored;
                        }
                    }
                    return list;
                default:
                    return node;
            }
        }
    }

    /// <summary>Stages a session's messages and its snapshot for the store and returns the reference to it.</summary>
    public static JsonElement Save(WorkflowContext context, JsonElement session)
    {
        if (context.Messages is not { } messages)
        {
            return session;
        }
        var blobs = new List<StoredMessage>();
        var root = JsonNode.Parse(session.GetRawText());
        Replace(root, blobs);
        var snapshot = ChatRecord.Blob(ChatRecord.Canonical(root));
        messages.Stage([.. blobs, snapshot]);
        return ChatRecord.ResultReference(snapshot.Hash);
    }

    /// <summary>Each list of messages (an array of objects with a role) replaced by the messages' hashes.</summary>
    private static void Replace(JsonNode? node, List<StoredMessage> blobs)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (value is JsonArray { Count: > 0 } array && array.All(i => i is JsonObject o && o.ContainsKey("role")))
                    {
                        var hashes = new JsonArray();
                        foreach (var item in array)
                        {
                            var blob = ChatRecord.Blob(ChatRecord.Canonical(item));
                            blobs.Add(blob);
                            hashes.Add((JsonNode)JsonValue.Create(blob.Hash));
                        }
                        obj[name] = new JsonObject { [ChatRecord.MessagesProperty] = hashes };
                    }
                    else
                    {
                        Replace(value, blobs);
                    }
                }
                break;
            case JsonArray list:
                foreach (var item in list)
                {
                    Replace(item, blobs);
                }
                break;
        }
    }
}
