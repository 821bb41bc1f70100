using System.Text.Json;

namespace Keel.Engine;

/// <summary>
/// What a suspect run held alone was about to do, kept on the run until its next progress: if its worker dies then,
/// the quarantine can name the step (or the replay) it died in. Stored as JSON; structured, not prose.
/// </summary>
/// <param name="Kind">"replay" (its journal was being replayed) or the kind of operation ("step").</param>
/// <param name="Name">The operation's durable name; null for a replay.</param>
/// <param name="Sequence">The operation's position; for a replay, how many entries the journal had.</param>
/// <param name="Attempt">The step's attempt; null when not a step.</param>
internal sealed record RecoveryPointData(string Kind, string? Name, long Sequence, int? Attempt)
{
    public static RecoveryPointData Replay(long? journalLength) => new("replay", null, journalLength ?? 0, null);

    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);

    /// <summary>Reads a stored point; null when there is none or it cannot be read (it only explains, never decides).</summary>
    public static RecoveryPointData? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }
        try
        {
            return KeelJson.Deserialize<RecoveryPointData>(json, KeelJson.Default);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Words for a person: "step 'charge' (position 4, attempt 2) ran".</summary>
    public string Describe() => Kind switch
    {
        "replay" => $"its journal ({Sequence} entries) was replayed or its workflow code ran",
        _ => $"{Kind} '{Name}' (position {Sequence}{(Attempt is { } a ? $", attempt {a}" : "")}) ran",
    };
}
