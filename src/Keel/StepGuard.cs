namespace Keel;

/// <summary>
/// A precondition a step declares on what the run did before it (<see cref="StepOptions.Requires"/>), so that an agent
/// cannot improvise its way past a critical check. Evaluated against the run's journal when the step is reached.
/// </summary>
public abstract class StepGuard
{
    /// <summary>An approval of this name was granted earlier in this run.</summary>
    /// <param name="approvalName">The approval's durable name.</param>
    /// <returns>The guard.</returns>
    public static StepGuard ApprovalGranted(string approvalName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(approvalName);
        return new JournalGuard($"approval '{approvalName}' was granted earlier in this run", journal =>
            RunHistory.BuildFrom(null, journal, values: false).IsApprovalGranted(approvalName));
    }

    /// <summary>A step of this name completed earlier in this run.</summary>
    /// <param name="stepName">The step's durable name.</param>
    /// <returns>The guard.</returns>
    public static StepGuard StepCompleted(string stepName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepName);
        return new JournalGuard($"step '{stepName}' completed earlier in this run", journal =>
            RunHistory.BuildFrom(null, journal, values: false).IsStepCompleted(stepName));
    }

    /// <summary>Any condition on the journal so far (deliverable entries, in order).</summary>
    /// <param name="description">What must hold, in words: shown to the person when it does not.</param>
    /// <param name="holds">The condition. It must depend on the journal only, so replays agree.</param>
    /// <returns>The guard.</returns>
    public static StepGuard When(string description, Func<IReadOnlyList<JournalEntry>, bool> holds)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(holds);
        return new JournalGuard(description, holds);
    }

    /// <summary>What must hold, in words.</summary>
    public abstract string Description { get; }

    internal abstract bool Holds(IReadOnlyList<JournalEntry> journal);

    private sealed class JournalGuard(string description, Func<IReadOnlyList<JournalEntry>, bool> holds) : StepGuard
    {
        public override string Description => description;

        internal override bool Holds(IReadOnlyList<JournalEntry> journal) => holds(journal);
    }
}
