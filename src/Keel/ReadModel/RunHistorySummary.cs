namespace Keel;

/// <summary>A run's history in numbers.</summary>
public sealed record RunHistorySummary
{
    /// <summary>Operations the workflow code reached (steps, timers, signal waits, approvals, child runs).</summary>
    public int Operations { get; init; }

    /// <summary>Steps that completed.</summary>
    public int StepsCompleted { get; init; }

    /// <summary>Steps that failed for good.</summary>
    public int StepsFailed { get; init; }

    /// <summary>Attempts that failed, including those retried and those that failed their step.</summary>
    public int FailedAttempts { get; init; }

    /// <summary>Decisions taken from outside the code (approvals, resolutions, unblocks, operator actions); not a model's
    /// tool choices.</summary>
    public int Decisions { get; init; }

    /// <summary>Entries in the journal.</summary>
    public int Entries { get; init; }
}
