namespace Keel;

/// <summary>What a step body knows about its own execution.</summary>
public sealed class StepContext
{
    internal StepContext(string runId, string stepName, int sequence, int attempt,
        IReadOnlyList<StepAttemptFailure> previousFailures, CancellationToken cancellationToken, StepEffect effect = StepEffect.Retryable,
        string? idempotencyKey = null, int keyOccurrence = 0)
    {
        _keyOccurrence = keyOccurrence;
        Effect = effect;
        _idempotencyKey = idempotencyKey;
        RunId = runId;
        StepName = stepName;
        Sequence = sequence;
        Attempt = attempt;
        PreviousFailures = previousFailures;
        CancellationToken = cancellationToken;
    }

    /// <summary>The run's id.</summary>
    public string RunId { get; }

    /// <summary>The step's durable name.</summary>
    public string StepName { get; }

    /// <summary>The step's position in the run (its sequence number).</summary>
    public int Sequence { get; }

    /// <summary>The attempt number, starting at 1. It survives crashes: a recovered step continues the count.</summary>
    public int Attempt { get; }

    /// <summary>The earlier failed attempts of this step, oldest first, as journaled.</summary>
    public IReadOnlyList<StepAttemptFailure> PreviousFailures { get; }

    private string? _idempotencyKey;

    /// <summary>
    /// A key that is the same on every attempt and after every recovery of this step, for APIs that deduplicate
    /// requests by key: <see cref="StepOptions.IdempotencyKey"/> when the workflow gave one, else the run id and the step's
    /// name (with <c>#N</c> for its N-th step of that name after the first), so that adding or moving other steps does
    /// not change it. Runs whose journal was begun by a Keel before 2026-12 keep the key they used: run id and position.
    /// </summary>
    public string IdempotencyKey => _idempotencyKey ??= _keyOccurrence switch
    {
        0 => $"{RunId}/{Sequence}", // a run in flight when its store was upgraded to keys by name
        1 => $"{RunId}/{StepName}",
        var n => $"{RunId}/{StepName}#{n}",
    };

    // Which step of its name this is (from 1), for the default key; 0 for the position-based key of older runs. The key is
    // made when a body asks for it: most never do.
    private readonly int _keyOccurrence;

    /// <summary>The step's effect kind.</summary>
    public StepEffect Effect { get; }

    /// <summary>
    /// Counts this step as one model call that used these tokens in the run's totals (<see cref="RunInfo.Tokens"/>): the
    /// counts are added in the transaction that journals the step's outcome, once, and only when the attempt completes.
    /// A later call in the same attempt replaces the earlier one.
    /// </summary>
    /// <param name="inputTokens">Tokens sent to the model.</param>
    /// <param name="outputTokens">Tokens it produced.</param>
    /// <param name="totalTokens">All tokens, as the provider counted them.</param>
    public void ReportModelUsage(long inputTokens, long outputTokens, long totalTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(totalTokens);
        ModelUsage = new TokenTotals(inputTokens, outputTokens, totalTokens, 1);
    }

    /// <summary>What the body reported with <see cref="ReportModelUsage"/>, if anything.</summary>
    internal TokenTotals? ModelUsage { get; private set; }

    /// <summary>Fires on the attempt's timeout, on the run's cancellation, and on worker shutdown.</summary>
    public CancellationToken CancellationToken { get; }
}
