namespace Keel;

/// <summary>One failed attempt of a step, as recorded in the journal.</summary>
/// <param name="Attempt">The attempt number, starting at 1.</param>
/// <param name="Error">What went wrong.</param>
/// <param name="StartedAt">When the attempt started.</param>
/// <param name="FailedAt">When it failed.</param>
/// <param name="RetryAt">When the next attempt is due.</param>
public sealed record StepAttemptFailure(int Attempt, ErrorInfo Error, DateTimeOffset StartedAt, DateTimeOffset FailedAt, DateTimeOffset? RetryAt);
