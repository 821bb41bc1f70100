namespace Keel.Storage;

/// <summary>
/// Splits a claim by concurrency limit (for store implementations): each limited workflow is claimed first, up to what
/// its limit leaves (so a backlog of unlimited work cannot starve it), then the unlimited ones together, by priority
/// then due time, with the room that is left.
/// </summary>
/// <param name="Unlimited">Workflows without a limit.</param>
/// <param name="Limited">Workflows with one, by name.</param>
public sealed record ClaimPlan(IReadOnlyList<string> Unlimited, IReadOnlyList<KeyValuePair<string, int>> Limited)
{
    /// <summary>Makes the plan for a request.</summary>
    /// <param name="request">The claim.</param>
    /// <returns>The plan.</returns>
    public static ClaimPlan Create(ClaimRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var limits = request.ConcurrencyLimits;
        if (limits is null || limits.Count == 0)
        {
            return new ClaimPlan([.. request.WorkflowNames], []);
        }
        var unlimited = request.WorkflowNames.Where(n => !limits.ContainsKey(n)).ToList();
        var limited = request.WorkflowNames.Where(limits.ContainsKey)
            .Select(n => KeyValuePair.Create(n, limits[n])).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        return new ClaimPlan(unlimited, limited);
    }
}
