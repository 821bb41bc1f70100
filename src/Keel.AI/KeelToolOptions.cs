namespace Keel.AI;

/// <summary>How a tool's calls are journaled inside a workflow (<see cref="KeelTools.WithOptions"/>).</summary>
public sealed record KeelToolOptions
{
    /// <summary>
    /// What may happen when the tool's body runs more than once; <see cref="StepEffect.Retryable"/> by default (or what
    /// the method's <see cref="ToolEffectAttribute"/> says). A tool that sends an email or moves money is
    /// <see cref="StepEffect.AtMostOnce"/>: interrupted by a crash, it is never run again on its own, and the run waits for
    /// a person (NeedsAttention) or <see cref="CheckUnknownOutcome"/>.
    /// </summary>
    public StepEffect? Effect { get; init; }

    /// <summary>The retry policy of the tool's step; null for the worker's default (AtMostOnce: tried once).</summary>
    public RetryPolicy? Retry { get; init; }

    /// <summary>For AtMostOnce tools: finds out whether an interrupted call acted (see <see cref="StepOptions.CheckUnknownOutcome"/>).</summary>
    public Func<StepContext, Task<UnknownOutcomeCheck>>? CheckUnknownOutcome { get; init; }

    /// <summary>
    /// True to ask a person before each call, as <see cref="Microsoft.Extensions.AI.ApprovalRequiredAIFunction"/> does: the run
    /// waits (released from memory) for a Keel approval named after the tool; the approver may edit the arguments; a
    /// rejection, with its comment, goes back to the model as the tool's result.
    /// </summary>
    public bool RequiresApproval { get; init; }
}
