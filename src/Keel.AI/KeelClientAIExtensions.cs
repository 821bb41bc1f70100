using System.Text.Json;

namespace Keel.AI;

/// <summary>What a run's model calls cost, read from its journal.</summary>
public static class KeelClientAIExtensions
{
    /// <summary>
    /// Sums the tokens of a run's journaled model calls (as the provider reported them). Every model call made through
    /// Keel.AI is counted once, however often the run was replayed.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The sum; the model is named when every call was answered by the same one.</returns>
    public static async Task<ModelUsage> GetTokenUsageAsync(this KeelClient client, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var journal = await client.GetJournalAsync(runId, cancellationToken).ConfigureAwait(false);
        ModelUsage? total = null;
        foreach (var entry in journal)
        {
            if (ReadModelUsage(entry) is { } usage)
            {
                total = total is null ? usage : total + usage;
            }
        }
        return total ?? new ModelUsage(null, 0, 0, 0);
    }

    /// <summary>The usage a journal entry records, when it is the completion of a model call made through Keel.AI.</summary>
    /// <param name="entry">A journal entry.</param>
    /// <returns>The call's usage, or null for any other entry (or a call whose provider reported none).</returns>
    public static ModelUsage? ReadModelUsage(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Kind != JournalEntryKind.StepCompleted || entry.Payload is not { Length: > 0 } payload || !payload.Contains("\"usage\"", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("response", out _) || root.TryGetProperty("updates", out _))
                ? ChatRecord.ReadUsage(root)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
