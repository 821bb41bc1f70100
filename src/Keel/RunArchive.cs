using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keel;

/// <summary>
/// Runs with their journals in a stable JSON format (<c>keel export</c>, <see cref="KeelClient.ExportAsync"/>): kept in a
/// repository as golden runs and replayed against changed workflow code by <c>Keel.Testing.WorkflowReplayer</c> or
/// <c>keel replay</c>, with no store and no live calls.
/// </summary>
/// <remarks>
/// The format is versioned by <see cref="Format"/>: <c>keel.runs/1</c> is an object with <c>format</c> and <c>runs</c>;
/// each run has <c>runId</c>, <c>workflowName</c>, <c>status</c>, <c>createdAt</c>, <c>input</c> (the input as JSON) and
/// <c>journal</c>, whose entries have <c>index</c>, <c>sequence</c>, <c>kind</c> (the <see cref="JournalEntryKind"/> name),
/// <c>name</c>, <c>attempt</c>, <c>startedAt</c>, <c>recordedAt</c>, <c>payload</c> (JSON as a string), <c>error</c> and
/// <c>retryAt</c>. An archive whose runs refer to stored messages (Keel.AI's conversations) has <c>messages</c>: an object
/// from each message's hash to its JSON (as a string), so a replay needs no store; it is left out when no run refers to any.
/// Fields may be added; none is renamed or removed within a format version.
/// </remarks>
public sealed record RunArchive
{
    /// <summary>The format this version of Keel writes.</summary>
    public const string CurrentFormat = "keel.runs/1";

    /// <summary>The format of the archive.</summary>
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The runs.</summary>
    public required IReadOnlyList<ArchivedRun> Runs { get; init; }

    /// <summary>The stored messages the runs refer to, by hash (JSON as a string); null when they refer to none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Messages { get; init; }

    /// <summary>The archive as JSON.</summary>
    /// <returns>Indented JSON, stable for diffs.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, KeelJsonContext.Indented.RunArchive);

    /// <summary>Reads an archive.</summary>
    /// <param name="json">The JSON <see cref="ToJson"/> (or <c>keel export</c>) wrote.</param>
    /// <returns>The archive.</returns>
    /// <exception cref="FormatException">Not an archive of a format this version reads.</exception>
    public static RunArchive Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        RunArchive? archive;
        try
        {
            archive = JsonSerializer.Deserialize(json, KeelJsonContext.Indented.RunArchive);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Not a Keel run archive: {ex.Message}", ex);
        }
        if (archive is null || archive.Format != CurrentFormat)
        {
            throw new FormatException($"Not a Keel run archive of format {CurrentFormat} (found '{archive?.Format}'): export it again with this version's `keel export`.");
        }
        return archive;
    }
}

/// <summary>One run of a <see cref="RunArchive"/>.</summary>
public sealed record ArchivedRun
{
    /// <summary>The run's id.</summary>
    public required string RunId { get; init; }

    /// <summary>The workflow's durable name.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>The run's status when it was exported.</summary>
    public RunStatus Status { get; init; }

    /// <summary>When the run was created (its replay-safe clock starts there).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The run's input.</summary>
    public JsonElement? Input { get; init; }

    /// <summary>The run's journal, in order.</summary>
    public required IReadOnlyList<JournalEntry> Journal { get; init; }

    /// <summary>The run as a <see cref="RunInfo"/> (what a replay needs of it).</summary>
    /// <returns>The run.</returns>
    public RunInfo ToRunInfo() => new()
    {
        RunId = RunId, WorkflowName = WorkflowName, Status = Status, CreatedAt = CreatedAt, UpdatedAt = CreatedAt,
        Input = Input is { } input ? input.GetRawText() : null,
    };
}
