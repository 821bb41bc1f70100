namespace Keel.Testing;

/// <summary>One start of a step body, as a <see cref="BodyLedger"/> recorded it (before the body ran).</summary>
/// <param name="At">When the body was about to start (the worker's system clock, full precision).</param>
/// <param name="RunId">The run.</param>
/// <param name="Sequence">The step's position in the run.</param>
/// <param name="StepName">The step's durable name.</param>
/// <param name="Attempt">The attempt, from 1.</param>
/// <param name="Effect">The step's effect kind.</param>
/// <param name="IdempotencyKey">The key the body was given.</param>
/// <param name="ProcessId">The worker process that ran it.</param>
public sealed record BodyStart(DateTimeOffset At, string RunId, int Sequence, string StepName, int Attempt, StepEffect Effect,
    string IdempotencyKey, int ProcessId);
