namespace Keel;

/// <summary>
/// The tokens a run's model calls used, summed: input, output and total tokens, and how many calls they were. Kept on
/// the run (<see cref="RunInfo.Tokens"/>) by the store, in the same transaction that journals each call, so it is exact
/// after a crash; a step body reports its call with <see cref="StepContext.ReportModelUsage"/> (Keel.AI does).
/// </summary>
/// <param name="InputTokens">Tokens sent to the models.</param>
/// <param name="OutputTokens">Tokens the models produced.</param>
/// <param name="TotalTokens">All tokens, as the providers counted them.</param>
/// <param name="ModelCalls">The model calls journaled.</param>
public sealed record TokenTotals(long InputTokens, long OutputTokens, long TotalTokens, long ModelCalls)
{
    /// <summary>Adds two totals.</summary>
    /// <param name="left">One.</param>
    /// <param name="right">The other.</param>
    /// <returns>The sum.</returns>
    public static TokenTotals operator +(TokenTotals left, TokenTotals right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens, left.TotalTokens + right.TotalTokens,
            left.ModelCalls + right.ModelCalls);
    }

    /// <summary>Adds two totals.</summary>
    /// <param name="other">The other.</param>
    /// <returns>The sum.</returns>
    public TokenTotals Add(TokenTotals other) => this + other;
}
