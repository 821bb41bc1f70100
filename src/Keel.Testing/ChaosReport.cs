using System.Globalization;

namespace Keel.Testing;

/// <summary>
/// What <see cref="ChaosHarness.RunAsync"/> did and found: the interference, how the runs ended, and the invariants
/// checked from the body ledger and the journals. <see cref="Holds"/> when no invariant was broken.
/// </summary>
public sealed record ChaosReport
{
    /// <summary>The seed of the harness's random choices (pass it as <see cref="ChaosOptions.Seed"/> to replay them).</summary>
    public required int Seed { get; init; }

    /// <summary>SIGKILLs done.</summary>
    public required int Kills { get; init; }

    /// <summary>SIGSTOP/SIGCONT pairs done.</summary>
    public required int Stops { get; init; }

    /// <summary>Times a worker exited on its own (and was restarted).</summary>
    public required int WorkerExits { get; init; }

    /// <summary>Runs in the store at the end (child runs and continued runs included).</summary>
    public required int Runs { get; init; }

    /// <summary>Runs that ended Completed.</summary>
    public required int RunsCompleted { get; init; }

    /// <summary>Runs that ended Failed.</summary>
    public required int RunsFailed { get; init; }

    /// <summary>Runs that ended Cancelled.</summary>
    public required int RunsCancelled { get; init; }

    /// <summary>Runs that ended Blocked (quarantined, or nondeterminism).</summary>
    public required int RunsQuarantined { get; init; }

    /// <summary>Runs not ended within <see cref="ChaosOptions.SettleTimeout"/> (still running, waiting, paused or needing attention).</summary>
    public required int RunsNeverEnded { get; init; }

    /// <summary>Step body starts the ledger recorded.</summary>
    public required int BodyStarts { get; init; }

    /// <summary>Body starts of a (run, position) later than the journaled outcome of that position (more than 1 ms after
    /// its RecordedAt, which is kept to the millisecond): a completed step run again.</summary>
    public required int CompletedStepReruns { get; init; }

    /// <summary>Body starts of AtMostOnce positions beyond what was allowed: one, plus one per "retry" resolution (by a
    /// person or an outcome check) and per journaled failed attempt of that position.</summary>
    public required int AtMostOnceDuplicates { get; init; }

    /// <summary>Idempotent positions whose bodies started with more than one idempotency key (extra keys counted).</summary>
    public required int IdempotentKeyMismatches { get; init; }

    /// <summary>Journaled StepCompleted entries whose body never started (per the ledger) and that no "complete"
    /// resolution explains: an effect the journal claims and nobody performed.</summary>
    public required int MissingEffects { get; init; }

    /// <summary>Body starts by a stopped worker, after another worker had started the same run's same or a later position
    /// (and attempt) since the SIGSTOP: a worker that acted after its lease had passed to another.</summary>
    public required int StaleBodyStarts { get; init; }

    /// <summary>Decisions the operator sent (<see cref="ChaosOptions.Operator"/>).</summary>
    public required int NeedsAttentionResolved { get; init; }

    /// <summary>From the first worker's start to the end of the checks.</summary>
    public required TimeSpan WallTime { get; init; }

    /// <summary>Every broken invariant, in words (run ids, positions, times).</summary>
    public required IReadOnlyList<string> Violations { get; init; }

    /// <summary>True when no invariant was broken.</summary>
    public bool Holds => Violations.Count == 0;

    /// <summary>The runs as they ended.</summary>
    public required IReadOnlyList<RunInfo> FinalRuns { get; init; }

    /// <summary>Every body start of the ledger, oldest first.</summary>
    public required IReadOnlyList<BodyStart> Bodies { get; init; }

    /// <summary>The kills, stops and exits, in order.</summary>
    public required IReadOnlyList<ChaosEvent> Events { get; init; }

    /// <summary>One line with the figures, for a test's output or a log.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"seed {Seed}: {Kills} kills, {Stops} stops, {WorkerExits} exits; {Runs} runs: {RunsCompleted} completed, {RunsFailed} failed, ") +
        string.Create(CultureInfo.InvariantCulture,
            $"{RunsCancelled} cancelled, {RunsQuarantined} quarantined, {RunsNeverEnded} never ended; {BodyStarts} body starts, ") +
        string.Create(CultureInfo.InvariantCulture,
            $"{CompletedStepReruns} completed-step re-runs, {AtMostOnceDuplicates} AtMostOnce duplicates, {IdempotentKeyMismatches} key mismatches, ") +
        string.Create(CultureInfo.InvariantCulture,
            $"{MissingEffects} missing, {StaleBodyStarts} stale starts; {NeedsAttentionResolved} resolved; {WallTime.TotalSeconds:0.0} s; ") +
        (Holds ? "holds" : string.Create(CultureInfo.InvariantCulture, $"{Violations.Count} violation(s)"));
}
