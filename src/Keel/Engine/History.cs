using System.Text.Json;

namespace Keel.Engine;

/// <summary>A run's journal, indexed for replay: what to deliver in order, and what each position recorded.</summary>
internal sealed class History
{
    private readonly Dictionary<int, JournalEntry> _firstBySequence = [];
    private readonly Dictionary<int, StepHistory> _steps = [];
    private Dictionary<int, JournalEntry>? _rejections;

    public History(IReadOnlyList<JournalEntry> entries)
    {
        var deliverable = new List<JournalEntry>();
        foreach (var entry in entries)
        {
            switch (entry.Kind)
            {
                case JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.TimerFired
                    or JournalEntryKind.SignalReceived or JournalEntryKind.SignalTimedOut or JournalEntryKind.ApprovalDecided
                    or JournalEntryKind.ChildCompleted or JournalEntryKind.ChildFailed:
                    deliverable.Add(entry);
                    _firstBySequence.TryAdd(entry.Sequence, entry);
                    break;
                case JournalEntryKind.StepAttemptFailed or JournalEntryKind.StepStarted or JournalEntryKind.StepNeedsAttention
                    or JournalEntryKind.StepResolved:
                    _firstBySequence.TryAdd(entry.Sequence, entry);
                    if (!_steps.TryGetValue(entry.Sequence, out var step))
                    {
                        _steps[entry.Sequence] = step = new StepHistory();
                    }
                    step.Add(entry);
                    break;
                case JournalEntryKind.ApprovalRequested or JournalEntryKind.ChildStarted:
                    _firstBySequence.TryAdd(entry.Sequence, entry); // marks the position; the outcome is delivered
                    break;
                case JournalEntryKind.SignalRejected:
                    (_rejections ??= [])[entry.Sequence] = entry; // a marker: the wait at that position goes on
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

    /// <summary>The last signal a wait at this position set aside, if any.</summary>
    public JournalEntry? LastRejectionFor(int sequence) => _rejections?.GetValueOrDefault(sequence);

    /// <summary>What the journal says about a step that has no delivered outcome yet: failures, an attempt whose outcome
    /// is unknown, a pending resolution.</summary>
    public StepHistory StepFor(int sequence) => _steps.GetValueOrDefault(sequence) ?? StepHistory.Empty;

    public static string Describe(JournalEntry entry) => entry.Kind switch
    {
        JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed or JournalEntryKind.StepAttemptFailed or JournalEntryKind.StepStarted
            or JournalEntryKind.StepNeedsAttention or JournalEntryKind.StepResolved => $"step '{entry.Name}'",
        JournalEntryKind.TimerFired => $"timer '{entry.Name}'",
        JournalEntryKind.SignalReceived or JournalEntryKind.SignalTimedOut or JournalEntryKind.SignalRejected => $"signal '{entry.Name}'",
        JournalEntryKind.ApprovalRequested or JournalEntryKind.ApprovalDecided => $"approval '{entry.Name}'",
        JournalEntryKind.ChildStarted or JournalEntryKind.ChildCompleted or JournalEntryKind.ChildFailed => $"child run '{entry.Name}'",
        JournalEntryKind.CancelRequested => "a cancellation",
        _ => $"{entry.Kind} '{entry.Name}'",
    };
}

/// <summary>The journal of one step that has no delivered outcome, folded in journal order.</summary>
internal sealed class StepHistory
{
    public static readonly StepHistory Empty = new();

    private readonly List<StepAttemptFailure> _failures = [];

    public IReadOnlyList<StepAttemptFailure> Failures => _failures;

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
                        _failures.Add(new StepAttemptFailure(unknown.Attempt, new ErrorInfo("Keel.OutcomeUnknown",
                            $"The process stopped while attempt {unknown.Attempt} ran; its outcome is unknown. Retried on the decision of {resolution.By ?? "someone"}" +
                            (resolution.Reason is { } why ? $": {why}" : ".")), unknown.StartedAt ?? unknown.RecordedAt, entry.RecordedAt, null));
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
}

/// <summary>What a step that needed attention was resolved to.</summary>
internal enum StepResolutionAction
{
    Retry,
    Complete,
    Fail,
}

/// <summary>A resolution as sent to the run (signal <c>keel.resolve/SEQ/N</c>) and journaled (<see cref="JournalEntryKind.StepResolved"/>).</summary>
internal sealed record StepResolutionData(StepResolutionAction Action, string? Result, string? Reason, string? By, DateTimeOffset At)
{
    /// <summary>The signal a person's decision on the <paramref name="attention"/>-th StepNeedsAttention (from 1) of a step
    /// is sent as: a stale duplicate of an earlier decision can never settle a later one.</summary>
    public static string SignalName(int sequence, int attention) => $"keel.resolve/{sequence}/{attention}";

    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);

    public static StepResolutionData Parse(string? json) =>
        (json is null ? null : KeelJson.Deserialize<StepResolutionData>(json, KeelJson.Default))
        ?? throw new JsonException("A step resolution is empty.");
}
