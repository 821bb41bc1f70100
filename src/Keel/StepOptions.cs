namespace Keel;

/// <summary>Per-step options.</summary>
public sealed record StepOptions
{
    /// <summary>The step's retry policy; null for <see cref="KeelOptions.DefaultRetryPolicy"/>.</summary>
    public RetryPolicy? Retry { get; init; }
}
