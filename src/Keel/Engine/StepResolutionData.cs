using System.Text.Json;

namespace Keel.Engine;

/// <summary>What a step that needed attention was resolved to.</summary>
internal enum StepResolutionAction
{
    Retry,
    Complete,
    Fail,
}

/// <summary>A resolution as sent to the run (signal <c>keel.resolve/SEQ/N</c>) and journaled (<see cref="JournalEntryKind.StepResolved"/>).</summary>
internal sealed record StepResolutionData(StepResolutionAction Action, string? Result, string? Reason, string? By, DateTimeOffset At)
{
    /// <summary>The signal a person's decision on the <paramref name="attention"/>-th StepNeedsAttention (from 1) of a step
    /// is sent as: a stale duplicate of an earlier decision can never settle a later one.</summary>
    public static string SignalName(int sequence, int attention) => $"keel.resolve/{sequence}/{attention}";

    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);

    public static StepResolutionData Parse(string? json) =>
        (json is null ? null : KeelJson.Deserialize<StepResolutionData>(json, KeelJson.Default))
        ?? throw new JsonException("A step resolution is empty.");
}
