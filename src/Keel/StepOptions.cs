namespace Keel;

/// <summary>Per-step options.</summary>
public sealed record StepOptions
{
    /// <summary>
    /// The step's retry policy; null for <see cref="KeelOptions.DefaultRetryPolicy"/>, except for
    /// <see cref="StepEffect.AtMostOnce"/> steps, which are then tried once (a body that throws may have acted).
    /// </summary>
    public RetryPolicy? Retry { get; init; }

    /// <summary>What may happen when the body runs more than once: see <see cref="StepEffect"/>.</summary>
    public StepEffect Effect { get; init; } = StepEffect.Retryable;

    /// <summary>
    /// The key an external API deduplicates by (<see cref="StepContext.IdempotencyKey"/>); null for one derived from
    /// the run id and the step's position, the same on every attempt and recovery.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// For <see cref="StepEffect.AtMostOnce"/> steps: what Keel runs first when the process stopped while the body ran
    /// (outcome unknown), to find out whether the effect happened, such as a lookup of the sent email. Without one, or
    /// when it answers <see cref="UnknownOutcomeCheck.StillUnknown"/>, the run waits for a person (NeedsAttention).
    /// </summary>
    public Func<StepContext, Task<UnknownOutcomeCheck>>? CheckUnknownOutcome { get; init; }

    /// <summary>
    /// Preconditions on what the run did before this step (an approval granted, a step completed). When one does not
    /// hold as the step is reached, the body does not run and the run waits for a person (NeedsAttention).
    /// </summary>
    public IReadOnlyList<StepGuard> Requires { get; init; } = [];
}

/// <summary>How often a step's body may run, and what Keel does when a process stops while it runs.</summary>
public enum StepEffect
{
    /// <summary>At least once: an interrupted body runs again on recovery. For reads, computation and LLM calls.</summary>
    Retryable,

    /// <summary>At least once, with the same <see cref="StepContext.IdempotencyKey"/> every time: for APIs that
    /// deduplicate by key, so the effect happens once.</summary>
    Idempotent,

    /// <summary>
    /// Never twice: a started record is committed before the body runs, and a body interrupted by a crash is not run
    /// again; the run goes to NeedsAttention (outcome unknown) until a person, or <see cref="StepOptions.CheckUnknownOutcome"/>,
    /// decides. For emails, payments and other irreversible actions.
    /// </summary>
    AtMostOnce,
}

/// <summary>What <see cref="StepOptions.CheckUnknownOutcome"/> found out about an interrupted step.</summary>
public sealed class UnknownOutcomeCheck
{
    private UnknownOutcomeCheck(UnknownOutcomeKind kind, object? result, string note)
    {
        Kind = kind;
        Result = result;
        Note = note;
    }

    /// <summary>The effect happened: the step completes with this result, without running its body again.</summary>
    /// <typeparam name="T">The step's result type.</typeparam>
    /// <param name="result">The result the body would have returned.</param>
    /// <param name="note">What the check found, for the journal.</param>
    /// <returns>The check's answer.</returns>
    public static UnknownOutcomeCheck Happened<T>(T result, string note = "the check found the effect had happened") => new(UnknownOutcomeKind.Happened, result, note);

    /// <summary>The effect did not happen: the body runs again (a new attempt).</summary>
    /// <param name="note">What the check found, for the journal.</param>
    /// <returns>The check's answer.</returns>
    public static UnknownOutcomeCheck DidNotHappen(string note = "the check found the effect had not happened") => new(UnknownOutcomeKind.DidNotHappen, null, note);

    /// <summary>The check cannot tell: a person decides.</summary>
    /// <param name="note">Why, for the person.</param>
    /// <returns>The check's answer.</returns>
    public static UnknownOutcomeCheck StillUnknown(string note = "the check could not tell") => new(UnknownOutcomeKind.StillUnknown, null, note);

    internal UnknownOutcomeKind Kind { get; }

    internal object? Result { get; }

    internal string Note { get; }
}

internal enum UnknownOutcomeKind
{
    Happened,
    DidNotHappen,
    StillUnknown,
}
