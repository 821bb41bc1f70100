namespace Keel;

/// <summary>How to fork a run (<see cref="KeelClient.ForkAsync"/>, <c>keel fork</c>).</summary>
public sealed record ForkOptions
{
    /// <summary>The position from which the fork runs live: what the source recorded before it is reused (no step body
    /// runs again, no model is called again), from it on the fork runs its code anew.</summary>
    public required int AtPosition { get; init; }

    /// <summary>A person's corrected result for the step at <see cref="AtPosition"/>, as JSON: the fork takes it as that
    /// step's outcome without running its body. Null to run the step.</summary>
    public string? ReplaceResultJson { get; init; }

    /// <summary>The fork's input as JSON; null for the source's. (A different input may make the reused prefix disagree with
    /// the code: the fork is then blocked, saying where.)</summary>
    public string? InputJson { get; init; }

    /// <summary>The fork's run id; null for one derived from the source's.</summary>
    public string? RunId { get; init; }

    /// <summary>Who forks it, for the record.</summary>
    public string? By { get; init; }

    /// <summary>Why, for the record.</summary>
    public string? Reason { get; init; }
}
