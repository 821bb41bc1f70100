namespace Keel.Engine;

/// <summary>A run's journal, indexed for replay: what to deliver in order, and what each position recorded.</summary>
internal sealed class History
{
    private readonly Dictionary<int, JournalEntry> _firstBySequence = [];
    private readonly Dictionary<int, List<StepAttemptFailure>> _failures = [];

    public History(IReadOnlyList<JournalEntry> entries)
    {
        var deliverable = new List<JournalEntry>();
        foreach (var entry in entries)
        {
            switch (entry.Kind)
            {
                case JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.TimerFired
                    or JournalEntryKind.SignalReceived or JournalEntryKind.SignalTimedOut or JournalEntryKind.ApprovalDecided:
                    deliverable.Add(entry);
                    _firstBySequence.TryAdd(entry.Sequence, entry);
                    break;
                case JournalEntryKind.StepAttemptFailed:
                    _firstBySequence.TryAdd(entry.Sequence, entry);
                    if (!_failures.TryGetValue(entry.Sequence, out var list))
                    {
                        _failures[entry.Sequence] = list = [];
                    }
                    list.Add(new StepAttemptFailure(entry.Attempt, entry.Error ?? new ErrorInfo("Unknown", "no error recorded"),
                        entry.StartedAt ?? entry.RecordedAt, entry.RecordedAt, entry.RetryAt));
                    break;
                case JournalEntryKind.ApprovalRequested:
                    _firstBySequence.TryAdd(entry.Sequence, entry); // marks the position; the decision is delivered
                    break;
                case JournalEntryKind.CancelRequested:
                    deliverable.Add(entry);
                    HasCancel = true;
                    break;
                default:
                    break; // run-level records are for people, not for replay
            }
        }
        Deliverable = deliverable;
    }

    /// <summary>Entries that resume the workflow, in the order they were delivered live.</summary>
    public IReadOnlyList<JournalEntry> Deliverable { get; }

    public bool HasCancel { get; }

    public JournalEntry? FirstEntryFor(int sequence) => _firstBySequence.GetValueOrDefault(sequence);

    public IReadOnlyList<StepAttemptFailure> FailuresFor(int sequence) =>
        _failures.TryGetValue(sequence, out var list) ? list : [];

    public static string Describe(JournalEntry entry) => entry.Kind switch
    {
        JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.StepAttemptFailed => $"step '{entry.Name}'",
        JournalEntryKind.TimerFired => $"timer '{entry.Name}'",
        JournalEntryKind.SignalReceived or JournalEntryKind.SignalTimedOut => $"signal '{entry.Name}'",
        JournalEntryKind.ApprovalRequested or JournalEntryKind.ApprovalDecided => $"approval '{entry.Name}'",
        JournalEntryKind.CancelRequested => "a cancellation",
        _ => $"{entry.Kind} '{entry.Name}'",
    };
}
