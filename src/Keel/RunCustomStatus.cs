namespace Keel;

/// <summary>What a run says it is doing now, set by its workflow code with <see cref="WorkflowContext.SetStatus"/>.</summary>
/// <param name="Text">A line for people, for example "waiting for 3 search results".</param>
/// <param name="Data">Optional structured detail, as JSON.</param>
/// <param name="At">When it was set.</param>
public sealed record RunCustomStatus(string Text, string? Data, DateTimeOffset At);
