namespace Keel.Engine;

/// <summary>The journal of one step that has no delivered outcome, folded in journal order.</summary>
internal sealed class StepHistory
{
    public static readonly StepHistory Empty = new();

    private readonly List<StepAttemptFailure> _failures = [];

    public IReadOnlyList<StepAttemptFailure> Failures => _failures;

    /// <summary>How many of <see cref="Failures"/> came before a retry of the run gave the step a fresh attempt budget.</summary>
    public int BudgetStart { get; private set; }

    /// <summary>The run was retried after this step failed for good: the failure becomes a failed attempt, due again at the
    /// retry, and the attempts after it have a fresh budget.</summary>
    public void Reopen(JournalEntry failed, DateTimeOffset retriedAt)
    {
        _failures.Add(new StepAttemptFailure(failed.Attempt, failed.Error ?? new ErrorInfo("Unknown", "no error recorded"),
            failed.StartedAt ?? failed.RecordedAt, failed.RecordedAt, retriedAt));
        UnknownAttempt = null;
        Attention = null;
        PendingResolution = null;
        BudgetStart = _failures.Count;
    }

    /// <summary>The StepStarted entry of an attempt with no recorded outcome (the process stopped while it ran).</summary>
    public JournalEntry? UnknownAttempt { get; private set; }

    /// <summary>The StepNeedsAttention entry not yet resolved.</summary>
    public JournalEntry? Attention { get; private set; }

    /// <summary>How many StepNeedsAttention entries the step has.</summary>
    public int AttentionCount { get; private set; }

    /// <summary>A resolution that completes or fails the step and whose outcome entry is not journaled yet.</summary>
    public StepResolutionData? PendingResolution { get; private set; }

    /// <summary>A person let the body run although a precondition did not hold.</summary>
    public bool GuardOverridden { get; private set; }

    public void Add(JournalEntry entry)
    {
        switch (entry.Kind)
        {
            case JournalEntryKind.StepAttemptFailed:
                _failures.Add(new StepAttemptFailure(entry.Attempt, entry.Error ?? new ErrorInfo("Unknown", "no error recorded"),
                    entry.StartedAt ?? entry.RecordedAt, entry.RecordedAt, entry.RetryAt));
                if (UnknownAttempt?.Attempt == entry.Attempt)
                {
                    UnknownAttempt = null;
                }
                break;
            case JournalEntryKind.StepStarted:
                UnknownAttempt = entry;
                break;
            case JournalEntryKind.StepNeedsAttention:
                Attention = entry;
                AttentionCount++;
                break;
            case JournalEntryKind.StepResolved:
                var resolution = StepResolutionData.Parse(entry.Payload);
                if (resolution.Action == StepResolutionAction.Retry)
                {
                    if (UnknownAttempt is { } unknown)
                    {
                        _failures.Add(UnknownAttemptRetried(unknown, resolution with { At = entry.RecordedAt }));
                    }
                    else if (Attention is not null)
                    {
                        GuardOverridden = true;
                    }
                }
                else
                {
                    PendingResolution = resolution;
                }
                UnknownAttempt = null;
                Attention = null;
                break;
        }
    }

    /// <summary>An attempt whose outcome was unknown, counted as failed because a person (or the outcome check) chose to retry.</summary>
    public static StepAttemptFailure UnknownAttemptRetried(JournalEntry unknown, StepResolutionData resolution) =>
        new(unknown.Attempt, new ErrorInfo("Keel.OutcomeUnknown",
                $"The process stopped while attempt {unknown.Attempt} ran; its outcome is unknown. Retried on the decision of {resolution.By ?? "someone"}" +
                (resolution.Reason is { } why ? $": {why}" : ".")),
            unknown.StartedAt ?? unknown.RecordedAt, resolution.At, null);
}
