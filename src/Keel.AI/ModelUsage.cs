namespace Keel.AI;

/// <summary>Tokens one model call used, or the sum over several, as the provider reported them.</summary>
/// <param name="Model">The model that answered (null for a sum over several models, or when the provider did not say).</param>
/// <param name="InputTokens">Tokens of the prompt.</param>
/// <param name="OutputTokens">Tokens of the answer.</param>
/// <param name="TotalTokens">All tokens billed for the call.</param>
public sealed record ModelUsage(string? Model, long InputTokens, long OutputTokens, long TotalTokens)
{
    /// <summary>Adds two usages; the model is kept only when both name the same one.</summary>
    /// <param name="left">One usage.</param>
    /// <param name="right">The other.</param>
    /// <returns>The sum.</returns>
    public static ModelUsage operator +(ModelUsage left, ModelUsage right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(string.Equals(left.Model, right.Model, StringComparison.Ordinal) ? left.Model : null,
            left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens, left.TotalTokens + right.TotalTokens);
    }

    /// <summary>Adds two usages (the named alternative of the + operator).</summary>
    /// <param name="other">The usage to add.</param>
    /// <returns>The sum.</returns>
    public ModelUsage Add(ModelUsage other) => this + other;
}
