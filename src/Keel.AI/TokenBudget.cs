namespace Keel.AI;

/// <summary>
/// The most tokens (input and output, as the provider reports them) a run may spend on model calls. Checked before each
/// call against the run's journaled total, so replay reaches the same decision.
/// </summary>
/// <param name="MaxTokens">The limit, in total tokens. At least 1.</param>
/// <param name="WhenExceeded">What happens when a call would start with the limit reached.</param>
public sealed record TokenBudget(long MaxTokens, TokenBudgetAction WhenExceeded = TokenBudgetAction.Fail);

/// <summary>What a run does when its <see cref="TokenBudget"/> is spent.</summary>
public enum TokenBudgetAction
{
    /// <summary>The run fails, its reason saying how many tokens it used of how many (<see cref="TokenBudgetExceededException"/>).</summary>
    Fail,

    /// <summary>
    /// The run asks a person (an approval named <c>token-budget</c>, released from memory while it waits): approving
    /// raises the budget (to the <c>maxTokens</c> the approver edits in, or twice the old one), rejecting fails the run.
    /// </summary>
    AskPerson,
}
