namespace Keel;

/// <summary>Thrown by a step body to ask for a retry after a given delay (for example a rate limit's Retry-After).</summary>
public class RetryableStepException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="retryAfter">The delay before the next attempt; null for the policy's backoff.</param>
    /// <param name="innerException">The cause, if any.</param>
    public RetryableStepException(string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException) => RetryAfter = retryAfter;

    /// <summary>The delay before the next attempt; null for the policy's backoff.</summary>
    public TimeSpan? RetryAfter { get; }
}
