using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Storage;

namespace Keel.AI;

/// <summary>
/// Agent sessions kept by reference: a session saved at the end of a turn is stored as a snapshot (the session's JSON with
/// each list of messages replaced by the messages' hashes, <c>{"keel.messages": [hashes]}</c>) and the messages once each,
/// by hash; the turn's result, the next turn's input and the journal hold only <c>{"keel.messages": "snapshot hash"}</c>.
/// A long conversation therefore stores each message once, and per turn a snapshot of one hash per message.
/// </summary>
internal static class AgentSessions
{
    private const string LoadStep = "keel.session load";
    private const string SaveStep = "keel.session save";

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

    /// <summary>
    /// The session a turn starts from: as it was given, or, for a reference, read from the store by a step that also links
    /// the snapshot and its messages to this run (so they stay while it does, and its replay loads them without I/O).
    /// </summary>
    public static async Task<JsonElement> LoadAsync(WorkflowContext context, JsonElement saved)
    {
        if (!IsReference(saved, out var snapshotHash) || context.Messages is not { } messages)
        {
            return saved;
        }
        await context.StepAsync(LoadStep, async step =>
        {
            var snapshot = await messages.GetAsync([snapshotHash], step.CancellationToken).ConfigureAwait(false);
            if (!snapshot.TryGetValue(snapshotHash, out var json))
            {
                throw new TerminalStepException($"The session to continue (snapshot {snapshotHash}) is not stored: the turn that saved it was purged.");
            }
            var hashes = MessageHashes(JsonNode.Parse(json));
            var found = await messages.GetAsync(hashes, step.CancellationToken).ConfigureAwait(false);
            if (hashes.FirstOrDefault(h => !found.ContainsKey(h)) is { } missing)
            {
                throw new TerminalStepException($"A message of the session to continue ({missing}) is not stored: the turn that saved it was purged.");
            }
            await messages.PutAsync([new StoredMessage(snapshotHash, json), .. found.Select(m => new StoredMessage(m.Key, m.Value))], step.CancellationToken)
                .ConfigureAwait(false);
            return ChatRecord.ResultReference(snapshotHash);
        }).ConfigureAwait(false);
        return Expand(messages, snapshotHash);
    }

    /// <summary>Stores a session's messages and its snapshot (a step, so it is done once) and returns the reference to it.</summary>
    public static async Task<JsonElement> SaveAsync(WorkflowContext context, JsonElement session)
    {
        if (context.Messages is not { } messages)
        {
            return session;
        }
        return await context.StepAsync(SaveStep, async step =>
        {
            var blobs = new List<StoredMessage>();
            var root = JsonNode.Parse(session.GetRawText());
            Replace(root, blobs);
            var snapshot = ChatRecord.Blob(ChatRecord.Canonical(root));
            await messages.PutAsync([.. blobs, snapshot], step.CancellationToken).ConfigureAwait(false);
            return ChatRecord.ResultReference(snapshot.Hash);
        }).ConfigureAwait(false);
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

    private static List<string> MessageHashes(JsonNode? node)
    {
        var hashes = new List<string>();
        Visit(node);
        return hashes;

        void Visit(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject obj when obj.Count == 1 && obj[ChatRecord.MessagesProperty] is JsonArray refs:
                    hashes.AddRange(refs.Select(r => r!.GetValue<string>()));
                    break;
                case JsonObject obj:
                    foreach (var (_, value) in obj)
                    {
                        Visit(value);
                    }
                    break;
                case JsonArray list:
                    foreach (var item in list)
                    {
                        Visit(item);
                    }
                    break;
            }
        }
    }

    /// <summary>The session a snapshot stands for, its messages read from the run's stored messages.</summary>
    private static JsonElement Expand(Keel.Engine.RunMessages messages, string snapshotHash)
    {
        string Get(string hash) => messages.TryGet(hash, out var json) ? json
            : throw new InvalidOperationException($"The session snapshot refers to the stored message {hash}, which is not there.");
        var root = JsonNode.Parse(Get(snapshotHash));
        root = Restore(root);
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
}
