namespace Keel;

/// <summary>
/// A person's decision on a step that needs attention (<see cref="KeelClient.ResolveAsync"/>, <c>keel resolve</c>): its
/// outcome was unknown after a crash, or a precondition did not hold.
/// </summary>
public sealed record StepResolution
{
    private StepResolution(string action, string? resultJson, string? reason, string? by)
    {
        Action = action;
        ResultJson = resultJson;
        Reason = reason;
        By = by;
    }

    /// <summary>"retry", "complete" or "fail".</summary>
    public string Action { get; }

    /// <summary>The result to complete the step with, as JSON.</summary>
    public string? ResultJson { get; }

    /// <summary>Why, for the record.</summary>
    public string? Reason { get; }

    /// <summary>Who decided.</summary>
    public string? By { get; }

    /// <summary>Run the step's body (again): the unknown attempt counts as failed, or the precondition is overridden.</summary>
    /// <param name="by">Who decided.</param>
    /// <param name="reason">Why.</param>
    /// <returns>The resolution.</returns>
    public static StepResolution Retry(string? by = null, string? reason = null) => new("retry", null, reason, by);

    /// <summary>The effect happened: complete the step with this result without running its body.</summary>
    /// <param name="resultJson">The step's result as JSON.</param>
    /// <param name="by">Who decided.</param>
    /// <param name="reason">Why.</param>
    /// <returns>The resolution.</returns>
    public static StepResolution CompleteWith(string resultJson, string? by = null, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(resultJson);
        return new("complete", resultJson, reason, by);
    }

    /// <summary>Fail the step for good; the workflow sees a <see cref="StepFailedException"/>.</summary>
    /// <param name="reason">Why: the workflow and the journal see it.</param>
    /// <param name="by">Who decided.</param>
    /// <returns>The resolution.</returns>
    public static StepResolution Fail(string reason, string? by = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new("fail", null, reason, by);
    }
}
