namespace Keel.AI;

/// <summary>A run's <see cref="TokenBudget"/> is spent: thrown in the workflow before the model call that would exceed it.</summary>
public sealed class TokenBudgetExceededException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="usedTokens">Tokens the run has used.</param>
    /// <param name="maxTokens">Its budget.</param>
    /// <param name="reason">Why the budget was not raised, if a person was asked.</param>
    public TokenBudgetExceededException(long usedTokens, long maxTokens, string? reason = null)
        : base($"The run's token budget is spent: it used {usedTokens} tokens of {maxTokens}{(reason is null ? "" : $" ({reason})")}. " +
               "Raise the budget (TokenBudget, SetTokenBudget) for runs that need more.")
    {
        UsedTokens = usedTokens;
        MaxTokens = maxTokens;
    }

    /// <summary>Tokens the run has used.</summary>
    public long UsedTokens { get; }

    /// <summary>Its budget.</summary>
    public long MaxTokens { get; }
}
