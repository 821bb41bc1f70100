using System.Text.Json;
using Keel.Storage;

namespace Keel.AI;

/// <summary>
/// A model call's prompt as a change from an earlier call of the same run: the first <see cref="Keep"/> messages of the
/// prompt of the run's model call number <see cref="From"/> (counted from 0, in journal order), then the stored messages
/// <see cref="Add"/> names. A loop whose every call extends the previous one journals only the new messages' hashes.
/// </summary>
internal sealed record PromptChange(int? From, int Keep, IReadOnlyList<string> Add)
{
    /// <summary>How many earlier calls a new prompt is compared with (the latest ones): a loop continues the previous call,
    /// interleaved conversations one a few calls back.</summary>
    public const int Candidates = 16;

    /// <summary>
    /// Encodes a prompt (its messages as stored) against the prompts of earlier calls (<paramref name="earlier"/>: their
    /// index and message hashes, oldest first): the one with the longest common prefix wins, the latest on a tie.
    /// </summary>
    public static PromptChange Encode(IReadOnlyList<StoredMessage> prompt, IReadOnlyList<(int Index, string[] Hashes)> earlier)
    {
        int? from = null;
        var keep = 0;
        foreach (var (index, hashes) in earlier)
        {
            var common = 0;
            var max = Math.Min(hashes.Length, prompt.Count);
            while (common < max && string.Equals(hashes[common], prompt[common].Hash, StringComparison.Ordinal))
            {
                common++;
            }
            if (common > 0 && common >= keep)
            {
                (from, keep) = (index, common);
            }
        }
        return new PromptChange(from, keep, [.. prompt.Skip(keep).Select(m => m.Hash)]);
    }

    /// <summary>The hashes of the whole prompt, given the hashes of the prompts of the run's earlier calls; null when the
    /// call it continues is not known (it only costs the next call a longer change).</summary>
    public string[]? Resolve(IReadOnlyList<string[]?> earlier)
    {
        if (Keep == 0 || From is null)
        {
            return [.. Add];
        }
        var from = From.Value;
        if (from < 0 || from >= earlier.Count || earlier[from] is not { } basis || basis.Length < Keep)
        {
            return null;
        }
        return [.. basis.AsSpan(0, Keep), .. Add];
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("prompt");
        if (From is { } from && Keep > 0)
        {
            writer.WriteNumber("from", from);
            writer.WriteNumber("keep", Keep);
        }
        writer.WriteStartArray("add");
        foreach (var hash in Add)
        {
            writer.WriteStringValue(hash);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static PromptChange Read(JsonElement prompt)
    {
        int? from = prompt.TryGetProperty("from", out var f) && f.TryGetInt32(out var i) ? i : null;
        var keep = prompt.TryGetProperty("keep", out var k) && k.TryGetInt32(out var n) ? n : 0;
        var add = prompt.TryGetProperty("add", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(h => h.GetString() ?? "").ToArray()
            : [];
        return new PromptChange(from, keep, add);
    }
}
