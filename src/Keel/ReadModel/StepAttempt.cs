namespace Keel;

/// <summary>One attempt of a step, from its journal.</summary>
public sealed record StepAttempt
{
    /// <summary>The attempt's number, from 1.</summary>
    public required int Number { get; init; }

    /// <summary>How it ended, or that it has not.</summary>
    public required AttemptOutcome Outcome { get; init; }

    /// <summary>When it started, if the journal knows.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended; null while it has not.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Why it failed, for a failed attempt (for an unknown outcome a person retried: <c>Keel.OutcomeUnknown</c>).</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>When the next attempt is due, after a failed one.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>True when the attempt journaled its start before its body ran (an AtMostOnce step).</summary>
    public bool AtMostOnce { get; init; }

    /// <summary>The journal index of the entry that last changed this attempt.</summary>
    public long Index { get; init; }
}
