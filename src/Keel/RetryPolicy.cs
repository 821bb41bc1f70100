namespace Keel;

/// <summary>How a failing step is retried. The schedule is durable: a crash neither resets the backoff nor the count.</summary>
/// <remarks>
/// The delay before attempt <c>n + 1</c> is <c>InitialDelay * BackoffCoefficient^(n - 1)</c>, capped at
/// <see cref="MaxDelay"/>, unless the failing body threw a <see cref="RetryableStepException"/> with its own delay.
/// A <see cref="TerminalStepException"/> or an exception of one of <see cref="NonRetryableExceptionTypes"/> ends the step at once.
/// </remarks>
public sealed record RetryPolicy
{
    /// <summary>The default: 3 attempts, 1 s initial delay doubling up to 1 min, no attempt timeout.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>A policy that never retries.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in total, including the first. At least 1.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Delay before the second attempt.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Factor applied to the delay after each failed attempt. At least 1.</summary>
    public double BackoffCoefficient { get; init; } = 2.0;

    /// <summary>Upper bound of the delay between attempts.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Time one attempt may take; its body's token fires when it passes. Null for no limit.</summary>
    public TimeSpan? AttemptTimeout { get; init; }

    /// <summary>Exception types (and their subclasses) that end the step without retrying.</summary>
    public IReadOnlyList<Type> NonRetryableExceptionTypes { get; init; } = [];

    /// <summary>The delay before the attempt that follows <paramref name="failedAttempt"/>.</summary>
    /// <param name="failedAttempt">The attempt that just failed, starting at 1.</param>
    /// <returns>The delay.</returns>
    public TimeSpan DelayAfter(int failedAttempt)
    {
        var coefficient = Math.Max(1.0, BackoffCoefficient);
        var ms = InitialDelay.TotalMilliseconds * Math.Pow(coefficient, Math.Max(0, failedAttempt - 1));
        ms = Math.Min(ms, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Max(0, ms));
    }

    internal bool IsNonRetryable(Exception exception) =>
        exception is TerminalStepException ||
        NonRetryableExceptionTypes.Any(t => t.IsInstanceOfType(exception));

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialDelay, TimeSpan.Zero, nameof(InitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, TimeSpan.Zero, nameof(MaxDelay));
        if (AttemptTimeout is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(t, TimeSpan.Zero, nameof(AttemptTimeout));
        }
    }
}
