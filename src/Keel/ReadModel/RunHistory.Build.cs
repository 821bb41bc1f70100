using System.Text.Json;
using Keel.Engine;

namespace Keel;

public sealed partial record RunHistory
{
    /// <summary>Builds the history of a run from its journal.</summary>
    /// <param name="run">The run as stored, if known: a run that has ended (by its status) ends its open operations,
    /// also when its journal does not record the end (a run cancelled before it started).</param>
    /// <param name="journal">The run's journal, in order.</param>
    /// <returns>The history.</returns>
    public static RunHistory Build(RunInfo? run, IReadOnlyList<JournalEntry> journal) => BuildFrom(run, journal, values: true);

    /// <summary>Builds the history; without <paramref name="values"/>, results and payloads are not parsed (guards and
    /// the client need only states and decisions).</summary>
    internal static RunHistory BuildFrom(RunInfo? run, IReadOnlyList<JournalEntry> journal, bool values)
    {
        ArgumentNullException.ThrowIfNull(journal);
        var fold = new Fold(values, run?.RunId);
        foreach (var entry in journal)
        {
            fold.Add(entry);
        }
        return fold.Finish(run, journal.Count);
    }

    /// <summary>The journal folded in order: one builder per position, decisions and run events as they come.</summary>
    private sealed class Fold(bool values, string? runId)
    {
        private readonly SortedDictionary<int, OperationFold> _operations = [];
        private readonly List<RunDecision> _decisions = [];
        private readonly List<RunEvent> _events = [];
        private readonly Dictionary<string, int> _versions = new(StringComparer.Ordinal);
        private readonly List<RunCustomStatus> _statuses = [];
        private IReadOnlyList<string>? _plan;
        private bool _ended;
        // The worker that claimed the run and has not let go of it since (released, ended): a claim by another one while
        // it is set means it stopped without letting go.
        private string? _holder;

        public void Add(JournalEntry entry)
        {
            var kind = JournalKinds.OperationOf(entry.Kind);
            if (kind == OperationKind.Version)
            {
                // In no position: a decision the run took once, read by the change's id.
                if (!entry.Name.StartsWith("keel.", StringComparison.Ordinal) &&
                    int.TryParse(entry.Payload, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var version))
                {
                    _versions.TryAdd(entry.Name, version);
                }
                return;
            }
            if (kind is OperationKind.None or OperationKind.Cancellation)
            {
                AddRunEntry(entry);
                return;
            }
            if (!_operations.TryGetValue(entry.Sequence, out var operation))
            {
                _operations[entry.Sequence] = operation = new OperationFold(entry.Sequence, kind, entry.Name, entry.Index, values);
            }
            operation.Add(entry, _decisions);
        }

        private void AddRunEntry(JournalEntry entry)
        {
            RunEventKind kind;
            switch (entry.Kind)
            {
                case JournalEntryKind.CancelRequested:
                    kind = RunEventKind.CancelDelivered;
                    break;
                case JournalEntryKind.RunBlocked:
                    kind = RunEventKind.Blocked;
                    _holder = null;
                    break;
                case JournalEntryKind.RunUnblocked:
                    var action = ReadOperatorAction(entry.Payload);
                    _decisions.Add(new RunDecision
                    {
                        Kind = DecisionKind.Unblock, Position = 0, Name = entry.Name, At = entry.RecordedAt, By = action?.By,
                        Reason = action?.Reason, Index = entry.Index,
                    });
                    _events.Add(new RunEvent { Kind = RunEventKind.Unblocked, At = entry.RecordedAt, By = action?.By, Reason = action?.Reason, Index = entry.Index });
                    return;
                case JournalEntryKind.RunRetried:
                    var retry = ReadOperatorAction(entry.Payload);
                    _ended = false; // it goes on
                    _decisions.Add(new RunDecision
                    {
                        Kind = DecisionKind.Retry, Position = 0, Name = entry.Name, At = entry.RecordedAt, By = retry?.By, Reason = retry?.Reason,
                        Index = entry.Index,
                    });
                    _events.Add(new RunEvent { Kind = RunEventKind.Retried, At = entry.RecordedAt, By = retry?.By, Reason = retry?.Reason, Index = entry.Index });
                    return;
                case JournalEntryKind.RunForked:
                    var fork = Read<ForkData>(entry.Payload);
                    // The fork's own journal begins with the record; the source's gets it appended.
                    var isFork = runId is not null ? fork?.Fork == runId : entry.Index == 0;
                    _events.Add(new RunEvent
                    {
                        Kind = isFork ? RunEventKind.ForkedFrom : RunEventKind.ForkedTo, At = entry.RecordedAt, By = fork?.By,
                        Reason = fork is null ? null
                            : $"at position {fork.Position}{(fork.Replaced ? ", with a replaced result" : "")}{(fork.Reason is { } why ? ": " + why : "")}",
                        RunId = isFork ? fork?.Source : fork?.Fork, Index = entry.Index,
                    });
                    return;
                case JournalEntryKind.RunCompleted:
                    kind = RunEventKind.Completed;
                    _ended = true;
                    _holder = null;
                    break;
                case JournalEntryKind.RunFailed:
                    kind = RunEventKind.Failed;
                    _ended = true;
                    _holder = null;
                    break;
                case JournalEntryKind.RunCancelled:
                    kind = RunEventKind.Cancelled;
                    _ended = true;
                    _holder = null;
                    break;
                case JournalEntryKind.RunClaimed:
                    var claim = Read<ClaimData>(entry.Payload);
                    var worker = new WorkerRef(entry.Name, claim?.Host, claim?.Pid, claim?.Build);
                    var previous = _holder is { } holder && holder != entry.Name ? holder : null;
                    _events.Add(new RunEvent
                    {
                        Kind = previous is null ? RunEventKind.Claimed : RunEventKind.TakenOver, At = entry.RecordedAt, Worker = worker,
                        PreviousWorker = previous, Index = entry.Index,
                    });
                    _holder = entry.Name;
                    return;
                case JournalEntryKind.RunReleased:
                    var release = Read<ReleaseData>(entry.Payload);
                    _events.Add(new RunEvent
                    {
                        Kind = RunEventKind.Released, At = entry.RecordedAt, Worker = new WorkerRef(entry.Name), Status = release?.Status,
                        DueAt = release?.DueAt, Reason = release?.Reason, Index = entry.Index,
                    });
                    _holder = null;
                    return;
                case JournalEntryKind.OperatorAction:
                    var acted = ReadOperatorAction(entry.Payload);
                    _decisions.Add(new RunDecision
                    {
                        Kind = DecisionKind.OperatorAction, Position = 0, Name = entry.Name, At = entry.RecordedAt, By = acted?.By, Reason = acted?.Reason,
                        Result = acted?.Priority is { } priority ? JsonDocument.Parse(priority.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement.Clone() : null,
                        SignalName = acted?.Signal, Index = entry.Index,
                    });
                    return;
                case JournalEntryKind.ToolChosen:
                    var choice = Read<ToolChoiceData>(entry.Payload);
                    _decisions.Add(new RunDecision
                    {
                        Kind = DecisionKind.ToolChoice, Position = 0, Name = entry.Name, At = entry.RecordedAt, By = choice?.Model,
                        ProposedArguments = choice?.Arguments, Index = entry.Index,
                    });
                    return;
                case JournalEntryKind.PlanDeclared:
                    _plan = Read<IReadOnlyList<string>>(entry.Payload) ?? _plan;
                    return;
                case JournalEntryKind.StatusSet:
                    if (Read<RunCustomStatus>(entry.Payload) is { } status)
                    {
                        _statuses.Add(status);
                    }
                    return;
                case JournalEntryKind.RunContinuedAsNew:
                    _ended = true;
                    _holder = null;
                    _events.Add(new RunEvent { Kind = RunEventKind.ContinuedAsNew, At = entry.RecordedAt, RunId = ReadRunId(entry.Payload), Index = entry.Index });
                    return;
                default:
                    return; // a kind this version does not know: nothing to say about it
            }
            _events.Add(new RunEvent { Kind = kind, At = entry.RecordedAt, Error = entry.Error, Index = entry.Index });
        }

        public RunHistory Finish(RunInfo? run, int entries)
        {
            var ended = _ended || run?.Status.IsTerminal() == true;
            var operations = new List<RunOperation>(_operations.Count);
            var waits = new List<OperationWait>();
            StepAttention? attention = null;
            foreach (var fold in _operations.Values)
            {
                var operation = fold.Finish(ended);
                operations.Add(operation);
                if (operation.Wait is { } wait)
                {
                    waits.Add(wait);
                }
                if (operation.State == OperationState.NeedsAttention && fold.Attention is { } open && (attention is null || open.Index > attention.Index))
                {
                    attention = open;
                }
            }
            return new RunHistory
            {
                Run = run, Operations = operations, Decisions = _decisions, Events = _events, Waits = waits, Attention = attention,
                CurrentPosition = _operations.Count == 0 ? 0 : _operations.Keys.Max(), Ended = ended, Versions = _versions, Statuses = _statuses,
                Plan = _plan, Remaining = _plan is null ? null : RemainingOf(_plan, operations),
                Summary = new RunHistorySummary
                {
                    Operations = operations.Count,
                    StepsCompleted = operations.Count(o => o.Kind == OperationKind.Step && o.State == OperationState.Completed),
                    StepsFailed = operations.Count(o => o.Kind == OperationKind.Step && o.State == OperationState.Failed),
                    FailedAttempts = operations.Sum(o => o.Attempts.Count(a => a.Outcome is AttemptOutcome.Failed or AttemptOutcome.FailedForGood)),
                    Decisions = _decisions.Count(d => d.Kind != DecisionKind.ToolChoice), // a model's choices are not taken from outside
                    Entries = entries,
                },
            };
        }
    }

    /// <summary>The plan's items without those done: each completed operation of an item's name does one item of that name.</summary>
    private static List<string> RemainingOf(IReadOnlyList<string> plan, List<RunOperation> operations)
    {
        var done = operations.Where(o => o.State == OperationState.Completed).GroupBy(o => o.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var remaining = new List<string>();
        foreach (var item in plan)
        {
            if (done.TryGetValue(item, out var left) && left > 0)
            {
                done[item] = left - 1;
            }
            else
            {
                remaining.Add(item);
            }
        }
        return remaining;
    }

    /// <summary>One operation's entries folded in journal order.</summary>
    private sealed class OperationFold(int position, OperationKind kind, string name, long firstIndex, bool values)
    {
        private readonly List<StepAttempt> _attempts = [];
        private List<StepAttention>? _attentionsSoFar;
        private List<RejectedSignal>? _rejected;
        private OperationState? _outcome;
        private DateTimeOffset? _startedAt;
        private DateTimeOffset? _endedAt;
        private JsonElement? _result;
        private ErrorInfo? _error;
        private ApprovalRequestInfo? _approval;
        private string? _childRunId;
        private DateTimeOffset? _waitDue;
        private int _attentions;
        private long _lastIndex;

        /// <summary>The step's request for attention not yet decided.</summary>
        public StepAttention? Attention { get; private set; }

        public void Add(JournalEntry entry, List<RunDecision> decisions)
        {
            _lastIndex = entry.Index;
            switch (JournalKinds.RoleOf(entry.Kind))
            {
                case EntryRole.Outcome:
                    AddOutcome(entry, decisions);
                    break;
                case EntryRole.StepRecord:
                    AddStepRecord(entry, decisions);
                    break;
                case EntryRole.Marker:
                    AddMarker(entry);
                    break;
                case EntryRole.Rejection:
                    (_rejected ??= []).Add(new RejectedSignal { At = entry.RecordedAt, Error = entry.Error, Payload = entry.Payload, Index = entry.Index });
                    break;
            }
        }

        private void AddOutcome(JournalEntry entry, List<RunDecision> decisions)
        {
            var success = JournalKinds.IsSuccess(entry.Kind);
            _outcome = success ? OperationState.Completed : OperationState.Failed;
            _endedAt = entry.RecordedAt;
            Attention = null;
            if (kind == OperationKind.Step)
            {
                var number = entry.Attempt > 0 ? entry.Attempt : Math.Max(1, _attempts.Count);
                SetAttempt(number, previous => (previous ?? NewAttempt(number, entry)) with
                {
                    Outcome = success ? AttemptOutcome.Completed : AttemptOutcome.FailedForGood,
                    StartedAt = previous?.StartedAt ?? entry.StartedAt, EndedAt = entry.RecordedAt,
                    Error = success ? null : entry.Error, RetryAt = null, Index = entry.Index,
                });
                _startedAt ??= entry.StartedAt;
            }
            if (kind == OperationKind.Approval)
            {
                decisions.Add(ApprovalDecisionOf(entry));
                return;
            }
            if (success)
            {
                _result = values ? Json(entry.Payload) : null;
                return;
            }
            _error = entry.Error ?? (kind == OperationKind.Signal
                ? new ErrorInfo("Keel.SignalTimedOut", $"No signal '{name}' arrived before the wait's timeout" +
                                                        (entry.StartedAt is { } due ? $" ({due:u})." : "."))
                : new ErrorInfo("Unknown", "no error recorded"));
        }

        private void AddStepRecord(JournalEntry entry, List<RunDecision> decisions)
        {
            switch (entry.Kind)
            {
                case JournalEntryKind.StepStarted:
                    SetAttempt(entry.Attempt, previous => (previous ?? NewAttempt(entry.Attempt, entry)) with
                    {
                        Outcome = AttemptOutcome.Running, StartedAt = entry.StartedAt ?? entry.RecordedAt, AtMostOnce = true, Index = entry.Index,
                    });
                    _startedAt ??= entry.StartedAt ?? entry.RecordedAt;
                    break;
                case JournalEntryKind.StepAttemptFailed:
                    SetAttempt(entry.Attempt, previous => (previous ?? NewAttempt(entry.Attempt, entry)) with
                    {
                        Outcome = AttemptOutcome.Failed, StartedAt = entry.StartedAt ?? previous?.StartedAt, EndedAt = entry.RecordedAt,
                        Error = entry.Error ?? new ErrorInfo("Unknown", "no error recorded"), RetryAt = entry.RetryAt, Index = entry.Index,
                    });
                    _startedAt ??= entry.StartedAt;
                    break;
                case JournalEntryKind.StepNeedsAttention:
                    _attentions++;
                    Attention = new StepAttention
                    {
                        Reason = AttentionReason.FromEntry(entry), Position = position, Step = name, Number = _attentions, Since = entry.RecordedAt,
                        Index = entry.Index,
                    };
                    (_attentionsSoFar ??= []).Add(Attention);
                    if (_attempts.Count > 0 && _attempts[^1] is { Outcome: AttemptOutcome.Running, AtMostOnce: true } running)
                    {
                        _attempts[^1] = running with { Outcome = AttemptOutcome.Unknown };
                    }
                    break;
                case JournalEntryKind.StepResolved:
                    var resolution = ReadResolution(entry.Payload);
                    decisions.Add(new RunDecision
                    {
                        Kind = DecisionKind.StepResolution, Position = position, Name = name, At = resolution?.At ?? entry.RecordedAt,
                        By = resolution?.By, Reason = resolution?.Reason, Action = ActionOf(resolution), Index = entry.Index,
                        Result = values && resolution is { Action: StepResolutionAction.Complete } ? Json(resolution.Result) : null,
                    });
                    if (resolution?.Action == StepResolutionAction.Retry && _attempts.Count > 0
                        && _attempts[^1] is { Outcome: AttemptOutcome.Running or AttemptOutcome.Unknown } unknown)
                    {
                        _attempts[^1] = unknown with
                        {
                            Outcome = AttemptOutcome.Failed, EndedAt = entry.RecordedAt, Index = entry.Index,
                            Error = new ErrorInfo("Keel.OutcomeUnknown", $"The process stopped while attempt {unknown.Number} ran; its outcome is unknown. " +
                                                                         $"Retried on the decision of {resolution.By ?? "someone"}" +
                                                                         (resolution.Reason is { } why ? $": {why}" : ".")),
                        };
                    }
                    Attention = null;
                    break;
            }
        }

        private void AddMarker(JournalEntry entry)
        {
            _startedAt ??= entry.RecordedAt;
            if (kind == OperationKind.Approval)
            {
                _approval = ReadRequest(entry);
            }
            else if (kind == OperationKind.ChildRun)
            {
                _childRunId = ReadRunId(entry.Payload);
            }
            else if (kind is OperationKind.Timer or OperationKind.Signal)
            {
                _waitDue = Read<WaitStartData>(entry.Payload)?.DueAt;
            }
        }

        public RunOperation Finish(bool runEnded)
        {
            OperationWait? wait = null;
            var state = _outcome ?? (runEnded ? OperationState.Cancelled : OperationState.Running);
            if (_outcome is null && runEnded)
            {
                Attention = null;
            }
            else if (_outcome is null)
            {
                wait = OpenWait(out state);
            }
            return new RunOperation
            {
                Position = position, Kind = kind, Name = name, State = state, StartedAt = _startedAt, EndedAt = _endedAt,
                Attempts = _attempts, Attentions = _attentionsSoFar ?? [], Result = _result, Error = _error, Wait = wait, Approval = _approval, ChildRunId = _childRunId,
                RejectedSignals = _rejected ?? [], FirstIndex = firstIndex, LastIndex = _lastIndex,
            };
        }

        /// <summary>What an operation without an outcome waits for, as far as its journal tells.</summary>
        private OperationWait? OpenWait(out OperationState state)
        {
            state = OperationState.Waiting;
            var wait = new OperationWait { Kind = WaitKind.Person, Position = position, Name = name };
            if (Attention is { } attention)
            {
                state = OperationState.NeedsAttention;
                return wait with { Since = attention.Since };
            }
            switch (kind)
            {
                case OperationKind.Step when _attempts.Count > 0 && _attempts[^1] is { Outcome: AttemptOutcome.Failed, RetryAt: { } due } failed:
                    return wait with { Kind = WaitKind.Retry, Since = failed.EndedAt, DueAt = due };
                case OperationKind.Approval when _approval is { } request:
                    return wait with { Kind = WaitKind.Approval, Since = request.RequestedAt, DueAt = request.Deadline, Title = request.Title };
                case OperationKind.ChildRun when _childRunId is not null:
                    return wait with { Kind = WaitKind.ChildRun, Since = _startedAt, ChildRunId = _childRunId };
                case OperationKind.Timer when _startedAt is not null:
                    return wait with { Kind = WaitKind.Timer, Since = _startedAt, DueAt = _waitDue };
                case OperationKind.Signal when _startedAt is not null || _rejected is not null:
                    return wait with { Kind = WaitKind.Signal, Since = _startedAt, DueAt = _waitDue, SignalName = name };
                default:
                    state = OperationState.Running;
                    return null;
            }
        }

        private void SetAttempt(int number, Func<StepAttempt?, StepAttempt> change)
        {
            var at = _attempts.FindIndex(a => a.Number == number);
            if (at >= 0)
            {
                _attempts[at] = change(_attempts[at]);
                return;
            }
            _attempts.Add(change(null));
            _attempts.Sort((a, b) => a.Number.CompareTo(b.Number));
        }

        private static StepAttempt NewAttempt(int number, JournalEntry entry) =>
            new() { Number = number, Outcome = AttemptOutcome.Running, StartedAt = entry.StartedAt, Index = entry.Index };

        private RunDecision ApprovalDecisionOf(JournalEntry entry)
        {
            var decision = Read<ApprovalDecisionData>(entry.Payload);
            return new RunDecision
            {
                Kind = DecisionKind.Approval, Position = position, Name = name, At = decision?.DecidedAt ?? entry.RecordedAt, By = decision?.By,
                Reason = decision?.Comment, Outcome = decision?.Outcome, Option = decision?.Option,
                ProposedArguments = decision?.ProposedArguments ?? _approval?.Arguments,
                EditedArguments = decision?.EditedArguments is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } edited ? edited : null,
                Index = entry.Index,
            };
        }

        private ApprovalRequestInfo ReadRequest(JournalEntry entry) => Read<ApprovalRequestData>(entry.Payload) is { } request
            ? new ApprovalRequestInfo
            {
                Title = request.Title ?? name, Details = request.Details, Action = request.Action,
                Arguments = request.Arguments.ValueKind == JsonValueKind.Undefined ? null : request.Arguments,
                Options = request.Options ?? [], RequestedAt = entry.RecordedAt, Deadline = request.Deadline,
            }
            : new ApprovalRequestInfo { Title = name, RequestedAt = entry.RecordedAt };

        private static ResolutionAction? ActionOf(StepResolutionData? resolution) => resolution?.Action switch
        {
            StepResolutionAction.Retry => ResolutionAction.Retry,
            StepResolutionAction.Complete => ResolutionAction.Complete,
            StepResolutionAction.Fail => ResolutionAction.Fail,
            _ => null,
        };
    }

    private static StepResolutionData? ReadResolution(string? payload) => Read<StepResolutionData>(payload);

    private static OperatorActionData? ReadOperatorAction(string? payload) => Read<OperatorActionData>(payload);

    /// <summary>A run id journaled as a JSON string (a child's, a successor's); an older plain-text one as it is.</summary>
    private static string? ReadRunId(string? payload)
    {
        if (payload is null)
        {
            return null;
        }
        try
        {
            return KeelJson.Deserialize<string>(payload, KeelJson.Default) ?? payload;
        }
        catch (JsonException)
        {
            return payload;
        }
    }

    /// <summary>One of Keel's own payloads; null when there is none or it does not read (it only explains, never decides).</summary>
    private static T? Read<T>(string? payload) where T : class => KeelJson.TryRead<T>(payload);

    /// <summary>A payload as a JSON value; text that is not JSON (older journals) as a JSON string.</summary>
    internal static JsonElement? Json(string? payload)
    {
        if (payload is null)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(payload, KeelJsonContext.Default.String);
        }
    }
}
