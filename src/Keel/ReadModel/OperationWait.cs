namespace Keel;

/// <summary>What an open operation waits for, and since when, as far as its journal tells.</summary>
/// <remarks>
/// Every wait journals its start: an approval (its request), a child run (its start), a retry (the failed attempt), a
/// person (the step's request for attention), a timer and a signal wait (a marker written with the run's next write).
/// Journals written before Keel recorded timer and signal-wait starts list those only once a signal was set aside.
/// </remarks>
public sealed record OperationWait
{
    /// <summary>What is waited for.</summary>
    public required WaitKind Kind { get; init; }

    /// <summary>The position of the operation that waits.</summary>
    public required int Position { get; init; }

    /// <summary>The operation's durable name (the step, approval, signal or child workflow).</summary>
    public required string Name { get; init; }

    /// <summary>Since when, if known.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>When the wait ends on its own: a retry's due time, a timer's due time, an approval's or a signal wait's deadline.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>The signal's name, for <see cref="WaitKind.Signal"/>.</summary>
    public string? SignalName { get; init; }

    /// <summary>The child run's id, for <see cref="WaitKind.ChildRun"/>.</summary>
    public string? ChildRunId { get; init; }

    /// <summary>The approval's title, for <see cref="WaitKind.Approval"/>.</summary>
    public string? Title { get; init; }
}
