using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel;

/// <summary>Why a step waits for a person.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttentionKind>))]
public enum AttentionKind
{
    /// <summary>Recorded by an older Keel as text only (see <see cref="AttentionReason.Detail"/>).</summary>
    Unspecified,

    /// <summary>The process stopped while an AtMostOnce attempt ran: whether its effect happened is unknown.</summary>
    OutcomeUnknown,

    /// <summary>A precondition of the step (<see cref="StepOptions.Requires"/>) did not hold: its body did not run.</summary>
    PreconditionNotMet,
}

/// <summary>
/// Why a step waits for a person, as journaled with <see cref="JournalEntryKind.StepNeedsAttention"/>: structured facts,
/// never a command line. Each renderer (the CLI, the HTTP API, the dashboard) says in its own terms what the person can
/// do: retry the body, complete the step with a result, or fail it (<see cref="KeelClient.ResolveAsync"/>).
/// </summary>
public sealed record AttentionReason
{
    /// <summary>What happened.</summary>
    public required AttentionKind Kind { get; init; }

    /// <summary>The step's name.</summary>
    public required string Step { get; init; }

    /// <summary>The step's position in the run.</summary>
    public int Position { get; init; }

    /// <summary>The attempt whose outcome is unknown (<see cref="AttentionKind.OutcomeUnknown"/>); 0 otherwise.</summary>
    public int Attempt { get; init; }

    /// <summary>When that attempt started, if known.</summary>
    public DateTimeOffset? AttemptStartedAt { get; init; }

    /// <summary>The preconditions that did not hold (<see cref="AttentionKind.PreconditionNotMet"/>), in words.</summary>
    public IReadOnlyList<string>? Unmet { get; init; }

    /// <summary>What the step's outcome check said, when it could not tell; or, for <see cref="AttentionKind.Unspecified"/>,
    /// the text an older Keel recorded.</summary>
    public string? Detail { get; init; }

    /// <summary>The reason in one or two sentences for people, without any command: what happened and that the step waits.</summary>
    /// <returns>The sentence.</returns>
    public override string ToString() => Kind switch
    {
        AttentionKind.OutcomeUnknown =>
            $"Outcome unknown: the process stopped while '{Step}' was running (attempt {Attempt}" +
            (AttemptStartedAt is { } at ? $", started {at:u}" : "") + "); its body is not run again on its own." +
            (Detail is { } note ? $" The outcome check said: {note}." : ""),
        AttentionKind.PreconditionNotMet =>
            $"Precondition not met for step '{Step}': {string.Join("; ", Unmet ?? [])}. Its body did not run.",
        _ => Detail ?? $"Step '{Step}' waits for a person's decision.",
    };

    /// <summary>Reads the payload of a <see cref="JournalEntryKind.StepNeedsAttention"/> entry: the structured reason, or
    /// (from journals of older versions, which recorded text) an <see cref="AttentionKind.Unspecified"/> one carrying it.</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The reason.</returns>
    public static AttentionReason FromEntry(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var payload = entry.Payload;
        if (payload is { Length: > 0 } && payload[0] == '{')
        {
            try
            {
                if (KeelJson.Deserialize<AttentionReason>(payload, KeelJson.Default) is { } reason)
                {
                    return reason;
                }
            }
            catch (JsonException)
            {
                // not ours: read as text below
            }
        }
        return new AttentionReason
        {
            Kind = AttentionKind.Unspecified, Step = entry.Name, Position = entry.Sequence, Attempt = entry.Attempt,
            Detail = LegacyText(payload),
        };
    }

    /// <summary>The JSON journaled as the payload.</summary>
    /// <returns>The JSON.</returns>
    internal string ToJson() => KeelJson.Serialize(this, KeelJson.Default);

    /// <summary>Text an older Keel wrote, without the command it embedded (the renderers say what to do now).</summary>
    private static string? LegacyText(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var command = text.IndexOf(" Resolve it: keel resolve ", StringComparison.Ordinal);
        return command >= 0 ? text[..command] : text;
    }
}
