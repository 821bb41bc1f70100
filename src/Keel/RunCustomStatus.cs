namespace Keel;

/// <summary>What a run says it is doing now, set by its workflow code with <see cref="WorkflowContext.SetStatus(string, object?)"/>.</summary>
/// <param name="Text">A line for people, for example "waiting for 3 search results".</param>
/// <param name="Data">Optional structured detail, as JSON.</param>
/// <param name="At">When it was set.</param>
public sealed record RunCustomStatus(string Text, string? Data, DateTimeOffset At)
{
    /// <summary>How far along the run says it is (for example 3 of 8 sources checked), if it said.</summary>
    public StatusProgress? Progress { get; init; }
}

/// <summary>How far along a run says it is: <see cref="Done"/> of <see cref="Total"/>.</summary>
/// <param name="Done">How many are done.</param>
/// <param name="Total">How many there are.</param>
public sealed record StatusProgress(int Done, int Total);
