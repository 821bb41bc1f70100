using System.Collections.Concurrent;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// The stored messages (<see cref="IWorkflowStore.PutMessagesAsync"/>) a run's journal refers to, as the run's code sees
/// them: loaded by the executor before the code replays (so replay reads them without I/O, which would be
/// nondeterminism), and staged by the code and its step bodies to be stored with the append that names them.
/// </summary>
/// <remarks>
/// A journal entry refers to stored messages when its payload holds the JSON property <see cref="Marker"/> (Keel.AI's model
/// calls, tool results and session snapshots): the executor reads a run's messages only when one does, so runs without them
/// cost no query. Thread-safe: step bodies put from the thread pool while the run's code reads on its scheduler.
/// </remarks>
internal sealed class RunMessages
{
    /// <summary>The JSON property whose presence in a payload says it refers to stored messages.</summary>
    public const string Marker = "keel.messages";

    private const string QuotedMarker = "\"" + Marker + "\"";

    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.Ordinal);
    private List<StoredMessage> _staged = [];
    private readonly Lock _stagedLock = new();
    private readonly Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyDictionary<string, string>>>? _get;

    /// <param name="get">Reads stored messages by hash (any run's); null where nothing is read (a hermetic replay).</param>
    public RunMessages(Func<IReadOnlyCollection<string>, CancellationToken, Task<IReadOnlyDictionary<string, string>>>? get = null)
    {
        _get = get;
    }

    /// <summary>Whether a payload refers to stored messages (a cheap, conservative test: a false positive costs one query).</summary>
    public static bool RefersToMessages(string? payload) => payload is { Length: > 0 } && payload.Contains(QuotedMarker, StringComparison.Ordinal);

    /// <summary>
    /// The hashes a JSON value names (<c>{"keel.messages": "hash"}</c> or <c>{"keel.messages": ["hash", ...]}</c>, at any
    /// depth): what the executor loads for a run whose input names stored messages (a conversation continued from an
    /// earlier run), following the names in what it loads.
    /// </summary>
    public static IReadOnlyList<string> NamedIn(string? json)
    {
        List<string> hashes = [];
        if (!RefersToMessages(json))
        {
            return hashes;
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json!);
            Visit(document.RootElement);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: names nothing.
        }
        return hashes;

        void Visit(System.Text.Json.JsonElement element)
        {
            switch (element.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.NameEquals(Marker) && property.Value.ValueKind == System.Text.Json.JsonValueKind.String)
                        {
                            hashes.Add(property.Value.GetString()!);
                        }
                        else if (property.NameEquals(Marker) && property.Value.ValueKind == System.Text.Json.JsonValueKind.Array)
                        {
                            hashes.AddRange(property.Value.EnumerateArray().Where(h => h.ValueKind == System.Text.Json.JsonValueKind.String).Select(h => h.GetString()!));
                        }
                        else
                        {
                            Visit(property.Value);
                        }
                    }
                    break;
                case System.Text.Json.JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Visit(item);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// Reads the stored messages a JSON value names (<see cref="NamedIn"/>), and those they name in turn (a session
    /// snapshot names its messages), into <paramref name="into"/>, skipping those it already holds.
    /// </summary>
    public static async Task ReadNamedAsync(IWorkflowStore store, string? json, Dictionary<string, string> into, CancellationToken cancellationToken)
    {
        for (var wanted = NamedIn(json).Where(h => !into.ContainsKey(h)).Distinct(StringComparer.Ordinal).ToList(); wanted.Count > 0;)
        {
            var found = await store.GetMessagesAsync(wanted, cancellationToken).ConfigureAwait(false);
            foreach (var (hash, body) in found)
            {
                into.TryAdd(hash, body);
            }
            wanted = [.. found.Values.SelectMany(NamedIn).Where(h => !into.ContainsKey(h)).Distinct(StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// Makes messages known to the run at once and has the executor store them (linked to the run) with its next append, in
    /// the same transaction, so an entry that names them is never committed without them and storing them costs no commit
    /// of its own. Safe from workflow code (no I/O) and from step bodies (call it before returning a result that names
    /// them). With <paramref name="link"/>, known ones are stored too (read from another run's, they become linked to this one).
    /// </summary>
    public void Stage(IEnumerable<StoredMessage> messages, bool link = false)
    {
        lock (_stagedLock)
        {
            foreach (var message in messages)
            {
                if (_known.TryAdd(message.Hash, message.Json) || link)
                {
                    _staged.Add(message);
                }
            }
        }
    }

    /// <summary>Takes what was staged for the executor's next append; null when nothing was.</summary>
    public IReadOnlyList<StoredMessage>? TakeStaged()
    {
        lock (_stagedLock)
        {
            if (_staged.Count == 0)
            {
                return null;
            }
            var staged = _staged;
            _staged = [];
            return staged;
        }
    }

    /// <summary>Stages again what an append that failed took (<see cref="TakeStaged"/>): the next append stores it.</summary>
    public void Restage(IReadOnlyList<StoredMessage> taken)
    {
        lock (_stagedLock)
        {
            _staged.InsertRange(0, taken);
        }
    }

    /// <summary>How many messages are known.</summary>
    public int Count => _known.Count;

    /// <summary>Adds messages read from the store or an archive.</summary>
    public void Add(IReadOnlyDictionary<string, string> messages)
    {
        foreach (var (hash, json) in messages)
        {
            _known.TryAdd(hash, json);
        }
    }

    /// <summary>A message by its hash, when it is known to the run.</summary>
    public bool TryGet(string hash, out string json) => _known.TryGetValue(hash, out json!);

    /// <summary>Whether the run already stored (or loaded) the message.</summary>
    public bool Contains(string hash) => _known.ContainsKey(hash);

    /// <summary>
    /// Reads stored messages by hash from the store (those the run does not know already), from a step body: messages
    /// another run stored (a conversation continued from an earlier run). They are not linked to this run until it puts
    /// them (<see cref="Stage"/>), which a body does before it returns a result that names them.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> GetAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var hash in hashes)
        {
            if (_known.TryGetValue(hash, out var json))
            {
                found[hash] = json;
            }
            else if (!found.ContainsKey(hash))
            {
                missing.Add(hash);
            }
        }
        if (missing.Count > 0)
        {
            if (_get is null)
            {
                throw new InvalidOperationException("Messages cannot be read here: nothing is read during a hermetic replay.");
            }
            foreach (var (hash, json) in await _get(missing, cancellationToken).ConfigureAwait(false))
            {
                found[hash] = json;
            }
        }
        return found;
    }
}
