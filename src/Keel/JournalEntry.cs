namespace Keel;

/// <summary>One entry of a run's journal.</summary>
public sealed record JournalEntry
{
    /// <summary>The entry's place in the run's journal, from 0; assigned by the store.</summary>
    public long Index { get; init; }

    /// <summary>The sequence number of the operation the entry belongs to (0 for run-level entries).</summary>
    public required int Sequence { get; init; }

    /// <summary>What the entry records.</summary>
    public required JournalEntryKind Kind { get; init; }

    /// <summary>The operation's durable name (the step name).</summary>
    public required string Name { get; init; }

    /// <summary>The attempt the entry belongs to, from 1 (0 when not applicable).</summary>
    public int Attempt { get; init; }

    /// <summary>When the operation (or attempt) started, if known.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the entry was recorded. This is the workflow's <see cref="WorkflowContext.UtcNow"/> after delivery.</summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>The result, as JSON, where there is one.</summary>
    public string? Payload { get; init; }

    /// <summary>The error, for failures.</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>When the next attempt is due, for <see cref="JournalEntryKind.StepAttemptFailed"/>.</summary>
    public DateTimeOffset? RetryAt { get; init; }
}
