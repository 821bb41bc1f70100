using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// The run's journal state machine: recorded entries, operations the workflow code asks for, and live outcomes go in;
/// what to do comes out (deliver this entry to that operation, append these entries with this run change, block for
/// nondeterminism, release the run until a time or for signals, finish it). No store, no threads, no clock of its own:
/// <see cref="RunExecutor"/> performs what it decides. Every entry kind is read through <see cref="JournalKinds"/>.
/// </summary>
/// <remarks>
/// One delivery path: a live outcome is journaled first and delivered from its entry exactly as a replay delivers it
/// (<see cref="IMachineOperation.Deliver"/>), so a value that does not round-trip through JSON is seen the same way
/// live and after a crash.
/// </remarks>
internal sealed class JournalMachine
{
    private readonly string _runId;
    // The recorded journal, indexed: the first entry at each position (what the code must ask for there), the folded
    // records of steps without an outcome, signals set aside, and the entries to deliver in their recorded order.
    private readonly Dictionary<int, JournalEntry> _firstBySequence = [];
    private readonly Dictionary<int, StepHistory> _steps = [];
    private readonly Dictionary<int, JournalEntry> _rejections = [];
    private readonly List<JournalEntry> _deliverable = [];
    private readonly Dictionary<string, int> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _stepOccurrences = new(StringComparer.Ordinal);
    // Version markers decided on new ground, journaled with the next batch that writes entries (ahead of them).
    private List<JournalEntry>? _pendingMarkers;
    // Statuses the code set live, journaled with the run's next write that counts as progress or a release (a status of
    // its own would be an append the store counts as progress, clearing the blame a failing run must carry).
    private List<JournalEntry>? _pendingRecords;
    // The plan the run declared last (WorkflowContext.Plan), as journaled or declared since.
    private IReadOnlyList<string>? _latestPlan;
    // The highest position the journal knows of: the code is past what the run did before only beyond it.
    private int _lastRecordedSequence;
    private int _replayed;
    // Where in the journal each position was first seen, and each deliverable sits: a retry sets aside by journal order.
    private readonly Dictionary<int, int> _firstSeenAt = [];
    private readonly List<int> _deliverableAt = [];
    // The run as its code sees it: the operations asked for and not yet ended, those not started yet, and the entries
    // delivered so far (what guards read).
    private readonly Dictionary<int, IMachineOperation> _pending = [];
    private List<IMachineOperation> _unstarted = [];
    private List<IMachineOperation> _taken = [];
    private readonly List<JournalEntry> _delivered = [];
    private int _lastSequence;

    public JournalMachine(string runId, DateTimeOffset createdAt, IReadOnlyList<JournalEntry> journal)
    {
        _runId = runId;
        Clock = createdAt;
        (JournalEntry Entry, int At)? runFailed = null;
        for (var at = 0; at < journal.Count; at++)
        {
            var entry = journal[at];
            if (entry.Kind == JournalEntryKind.RunFailed)
            {
                runFailed = (entry, at);
            }
            _lastRecordedSequence = Math.Max(_lastRecordedSequence, entry.Sequence);
            RefersToStoredMessages |= RunMessages.RefersToMessages(entry.Payload);
            if (entry.Sequence > 0 && JournalKinds.RoleOf(entry.Kind) is EntryRole.Outcome or EntryRole.StepRecord or EntryRole.Marker or EntryRole.Rejection)
            {
                _firstSeenAt.TryAdd(entry.Sequence, at);
            }
            switch (JournalKinds.RoleOf(entry.Kind))
            {
                case EntryRole.Outcome:
                    _deliverable.Add(entry);
                    _deliverableAt.Add(at);
                    _firstBySequence.TryAdd(entry.Sequence, entry);
                    break;
                case EntryRole.StepRecord:
                    _firstBySequence.TryAdd(entry.Sequence, entry);
                    if (!_steps.TryGetValue(entry.Sequence, out var step))
                    {
                        _steps[entry.Sequence] = step = new StepHistory();
                    }
                    step.Add(entry);
                    break;
                case EntryRole.Marker:
                    _firstBySequence.TryAdd(entry.Sequence, entry); // marks the position; the outcome is delivered
                    break;
                case EntryRole.Rejection:
                    _rejections[entry.Sequence] = entry; // the wait at that position goes on
                    break;
                case EntryRole.Cancellation:
                    _deliverable.Add(entry);
                    _deliverableAt.Add(at);
                    HasCancel = true;
                    break;
                case EntryRole.Version:
                    if (int.TryParse(entry.Payload, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var version))
                    {
                        _versions.TryAdd(entry.Name, version);
                    }
                    break;
                case EntryRole.RunRecord when entry.Kind == JournalEntryKind.PlanDeclared:
                    _latestPlan = KeelJson.TryRead<IReadOnlyList<string>>(entry.Payload) ?? _latestPlan;
                    break;
                case EntryRole.Retry:
                    if (runFailed is { } failedRun)
                    {
                        Reopen(failedRun.Entry, entry.RecordedAt, KeelJson.TryRead<OperatorActionData>(entry.Payload)?.RetriedChild);
                    }
                    runFailed = null;
                    break;
                case EntryRole.RunRecord:
                    break; // for people, not for replay
            }
        }
        IsReplaying = _deliverable.Count > 0;
    }

    /// <summary>
    /// A person retried the failed run. When a step's failure ended it (the run failed with that step's
    /// <see cref="StepFailedException"/>, recorded as the step's error), that failure is no longer delivered but folded into
    /// the step as a failed attempt due now, with a fresh budget after it: the step runs again and sees its failures. When
    /// a failed child run ended it and the retry retried that child too (<paramref name="retriedChild"/>), the child's
    /// failure is no longer delivered: the run waits for the child again. What the run began only after that failure (a
    /// compensation, say: positions beyond it first seen after it) is set aside, so the code may take those positions
    /// anew; an at-most-once attempt left without an outcome is kept, to be settled as before. Operations begun before the
    /// failure keep what they recorded after it. When the code threw on its own, nothing is reopened: the run replays and
    /// runs its code again, as a deploy of fixed code wants.
    /// </summary>
    private void Reopen(JournalEntry runFailed, DateTimeOffset retriedAt, string? retriedChild)
    {
        if (runFailed.Error is not { } error)
        {
            return;
        }
        int index;
        if (retriedChild is not null)
        {
            // The wait for that child (its ChildStarted record names it) ended with its failure.
            var position = _firstBySequence.Values.FirstOrDefault(e => e.Kind == JournalEntryKind.ChildStarted &&
                string.Equals(KeelJson.TryRead<string>(e.Payload), retriedChild, StringComparison.Ordinal))?.Sequence;
            index = position is { } at ? _deliverable.FindLastIndex(e => e.Kind == JournalEntryKind.ChildFailed && e.Sequence == at) : -1;
        }
        else
        {
            // A run that a step's failure ended records the step's own error, prefixed with the step (ErrorInfo.FromException).
            index = _deliverable.FindLastIndex(e => e.Kind == JournalEntryKind.StepFailed && e.Error?.Type == error.Type &&
                error.Message.StartsWith($"step '{e.Name}' failed after {e.Attempt} attempt(s): ", StringComparison.Ordinal));
        }
        if (index < 0)
        {
            return;
        }
        var failed = _deliverable[index];
        var failedAt = _deliverableAt[index];
        _deliverable.RemoveAt(index);
        _deliverableAt.RemoveAt(index);
        if (failed.Kind == JournalEntryKind.StepFailed)
        {
            if (!_steps.TryGetValue(failed.Sequence, out var step))
            {
                _steps[failed.Sequence] = step = new StepHistory();
            }
            step.Reopen(failed, retriedAt);
        }
        SetAsideAfter(failed.Sequence, failedAt);
    }

    /// <summary>Sets aside the positions beyond <paramref name="sequence"/> first seen after journal index
    /// <paramref name="failedAt"/> (see <see cref="Reopen"/>).</summary>
    private void SetAsideAfter(int sequence, int failedAt)
    {
        var setAside = _firstSeenAt.Where(p => p.Key > sequence && p.Value > failedAt)
            .Select(p => p.Key)
            .Where(later => _steps.GetValueOrDefault(later)?.UnknownAttempt is null || _deliverable.Exists(e => e.Sequence == later))
            .ToHashSet();
        for (var i = _deliverable.Count - 1; i >= 0; i--)
        {
            if (setAside.Contains(_deliverable[i].Sequence) && _deliverableAt[i] > failedAt)
            {
                _deliverable.RemoveAt(i);
                _deliverableAt.RemoveAt(i);
            }
        }
        foreach (var later in setAside)
        {
            _firstBySequence.Remove(later);
            _steps.Remove(later);
            _rejections.Remove(later);
            _firstSeenAt.Remove(later);
        }
        if (setAside.Count > 0)
        {
            // New ground (for version checks) begins again where the kept positions end.
            _lastRecordedSequence = _firstSeenAt.Keys.DefaultIfEmpty(sequence).Max();
        }
    }

    /// <summary>The replay-safe time: the time of the entry delivered last (or the run's creation); never backwards.</summary>
    public DateTimeOffset Clock { get; private set; }

    /// <summary>
    /// Whether the recorded journal refers to stored messages (<see cref="RunMessages"/>): the executor loads the run's
    /// messages before its code replays only then, so a run without them costs no query.
    /// </summary>
    public bool RefersToStoredMessages { get; }

    /// <summary>True until the recorded outcomes are all delivered (<see cref="EndReplay"/>).</summary>
    public bool IsReplaying { get; private set; }

    /// <summary>The journal holds a delivered cancellation.</summary>
    public bool HasCancel { get; }

    /// <summary>Cancellation was delivered to the code.</summary>
    public bool IsCancelled { get; private set; }

    /// <summary>The first place where the code asked for something else than the journal recorded; the run must block.</summary>
    public NondeterminismException? Nondeterminism { get; private set; }

    public IReadOnlyDictionary<int, IMachineOperation> Pending => _pending;

    /// <summary>The entries delivered so far, in delivery order: what a step's guards see (the same on every replay).</summary>
    public IReadOnlyList<JournalEntry> JournalSoFar() => [.. _delivered];

    // ---- Operations the code asks for --------------------------------------------------------------------------------

    /// <summary>
    /// The code asks for an operation: takes the next position and checks the journal recorded the same kind of
    /// operation, with this name, there. Returns what the journal holds for the position, or null when it recorded
    /// something else (<see cref="Nondeterminism"/> is set: the caller hands the code a task that never completes).
    /// </summary>
    public RecordedPosition? Admit(OperationKind kind, string name)
    {
        var sequence = ++_lastSequence;
        var recorded = _firstBySequence.GetValueOrDefault(sequence);
        if (recorded is not null && (JournalKinds.OperationOf(recorded.Kind) != kind || !string.Equals(recorded.Name, name, StringComparison.Ordinal)))
        {
            Nondeterminism ??= new NondeterminismException(_runId, sequence, JournalKinds.Describe(recorded), $"{JournalKinds.Noun(kind)} '{name}'");
            return null;
        }
        var occurrence = 0;
        if (kind == OperationKind.Step)
        {
            _stepOccurrences[name] = occurrence = _stepOccurrences.GetValueOrDefault(name) + 1;
        }
        return new RecordedPosition(sequence, recorded, _steps.GetValueOrDefault(sequence) ?? StepHistory.Empty, _rejections.GetValueOrDefault(sequence), occurrence);
    }

    /// <summary>
    /// The version of a change the run follows. The version it took before (journaled), else, for a run that already
    /// went past this point before the change existed, <see cref="WorkflowContext.DefaultVersion"/>, else (new ground)
    /// <paramref name="maxSupported"/>, whose marker is journaled with the next batch that writes entries: ahead of
    /// anything the run records after it, and without a commit of its own (a journal that ends before the marker is new
    /// ground again on replay). A version outside the supported range blocks the run (<see cref="Nondeterminism"/> is set
    /// and returned as the error). Decided once per change and run.
    /// </summary>
    public (int Version, NondeterminismException? Error) Version(string changeId, int minSupported, int maxSupported, DateTimeOffset now)
    {
        if (!_versions.TryGetValue(changeId, out var version))
        {
            // Past the journal's end (no outcome left to replay, no position recorded beyond here): new ground, so the run
            // takes the newest version. Otherwise the run went on from here before the change existed: the default.
            var newGround = _replayed >= _deliverable.Count && _lastSequence >= _lastRecordedSequence;
            version = newGround ? maxSupported : WorkflowContext.DefaultVersion;
            _versions[changeId] = version;
            if (newGround)
            {
                (_pendingMarkers ??= []).Add(new JournalEntry
                {
                    Sequence = _lastSequence, Kind = JournalEntryKind.VersionMarker, Name = changeId, RecordedAt = now,
                    Payload = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            }
        }
        if (version < minSupported || version > maxSupported)
        {
            var took = version == WorkflowContext.DefaultVersion
                ? $"no version of change '{changeId}' (the run went past this point before the change)"
                : $"version {version} of change '{changeId}'";
            Nondeterminism ??= new NondeterminismException(_runId, _lastSequence, took,
                $"change '{changeId}' at version {minSupported} to {maxSupported} (the code no longer has the path this run took)");
            return (version, Nondeterminism);
        }
        return (version, null);
    }

    /// <summary>
    /// The code declared its plan, live (a replay's calls were journaled when they ran): journaled with the run's next
    /// write when it differs from the plan declared last.
    /// </summary>
    public void DeclarePlan(IReadOnlyList<string> steps, DateTimeOffset now)
    {
        if (IsReplaying || _latestPlan is { } latest && latest.SequenceEqual(steps, StringComparer.Ordinal))
        {
            return;
        }
        _latestPlan = steps;
        (_pendingRecords ??= []).Add(new JournalEntry
        {
            Sequence = 0, Kind = JournalEntryKind.PlanDeclared, Name = "plan", RecordedAt = now, Payload = KeelJson.Serialize(steps, KeelJson.Default),
        });
    }

    /// <summary>
    /// A model chose to call a tool, live (a replay's choices were journaled when they were made): journaled with the run's
    /// next write, the tool's step (<see cref="JournalEntryKind.ToolChosen"/>).
    /// </summary>
    public void ToolChosen(string tool, string? model, JsonElement? arguments, DateTimeOffset now)
    {
        if (IsReplaying)
        {
            return;
        }
        if (arguments is { } args && args.GetRawText().Length > ToolChoiceData.MaxArgumentBytes)
        {
            arguments = null;
        }
        (_pendingRecords ??= []).Add(new JournalEntry
        {
            Sequence = 0, Kind = JournalEntryKind.ToolChosen, Name = tool, RecordedAt = now, Payload = new ToolChoiceData(model, arguments).ToJson(),
        });
    }

    /// <summary>
    /// A timer or signal wait the journal has nothing for at its position began to wait: journaled with the run's next write
    /// (<see cref="JournalEntryKind.TimerStarted"/>, <see cref="JournalEntryKind.SignalWaitStarted"/>), so a person reads
    /// what the run waits for, and since when, before the wait ends. Once per position: a marker already journaled there is
    /// the position's first entry, and the caller asks only for a position without one.
    /// </summary>
    public void WaitBegan(RecordedPosition position, OperationKind kind, string name, DateTimeOffset? dueAt, DateTimeOffset now)
    {
        if (position.First is not null)
        {
            return;
        }
        (_pendingRecords ??= []).Add(new JournalEntry
        {
            Sequence = position.Sequence, Kind = kind == OperationKind.Timer ? JournalEntryKind.TimerStarted : JournalEntryKind.SignalWaitStarted,
            Name = name, RecordedAt = now, Payload = new WaitStartData(dueAt).ToJson(),
        });
    }

    /// <summary>The statuses set since the last write that took them (<see cref="JournalEntryKind.StatusSet"/>), to ride
    /// the executor's next append that journals entries or lets go of the run; empty when there are none.</summary>
    public IReadOnlyList<JournalEntry> TakePendingRecords()
    {
        var taken = _pendingRecords;
        _pendingRecords = null;
        return taken ?? (IReadOnlyList<JournalEntry>)[];
    }

    public int? RecordedVersion(string changeId) => _versions.TryGetValue(changeId, out var version) ? version : null;

    /// <summary>An operation the code asked for waits for its outcome (and, live, to be started).</summary>
    public void Add(IMachineOperation operation)
    {
        _pending.Add(operation.Sequence, operation);
        _unstarted.Add(operation);
    }

    /// <summary>Whether operations were asked for since the last <see cref="TakeUnstarted"/>.</summary>
    public bool HasUnstarted => _unstarted.Count > 0;

    /// <summary>Takes the operations asked for since the last call, to start live.</summary>
    public List<IMachineOperation> TakeUnstarted()
    {
        (_taken, _unstarted) = (_unstarted, _taken);
        _unstarted.Clear();
        return _taken;
    }

    /// <summary>Where a crash while the unstarted operations run would be: the first of them that runs user code.</summary>
    public RecoveryPointData? UnstartedRecoveryPoint()
    {
        foreach (var operation in _unstarted)
        {
            if (!operation.IsDone && operation.RecoveryPoint() is { } point)
            {
                return point;
            }
        }
        return null;
    }

    /// <summary>Delivers an outcome (replayed or live alike): the operation ends, the entry joins what guards see, the clock
    /// moves to it. The caller then hands the entry to the operation, inside the scheduler's pump.</summary>
    public void Delivered(IMachineOperation operation, JournalEntry entry)
    {
        MoveClock(entry.RecordedAt);
        _pending.Remove(operation.Sequence);
        _delivered.Add(entry);
    }

    /// <summary>Delivers cancellation: returns the pending operations it ends (all but cleanup ones), which the caller cancels.</summary>
    public List<IMachineOperation> Cancel(DateTimeOffset recordedAt)
    {
        MoveClock(recordedAt);
        IsCancelled = true;
        var ended = _pending.Values.Where(o => !o.IsCleanup).ToList();
        foreach (var operation in ended)
        {
            _pending.Remove(operation.Sequence);
            _unstarted.Remove(operation);
        }
        return ended;
    }

    public string DescribePending() =>
        _pending.Count == 0 ? "nothing" : string.Join(", ", _pending.Values.Select(o => $"{o.Describe()} at position {o.Sequence}"));

    // ---- Replay ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The next recorded outcome to deliver, checked against what the code waits for: deliver it, deliver the recorded
    /// cancellation, or stop because the code is elsewhere (blocked by nondeterminism, or faulted). Done at the end.
    /// </summary>
    /// <param name="codeReturned">The workflow code returned (or threw).</param>
    /// <param name="codeFault">What the code threw, if it did.</param>
    public ReplayStep NextReplay(bool codeReturned, Exception? codeFault)
    {
        if (_replayed >= _deliverable.Count)
        {
            return new ReplayStep(ReplayAction.Done);
        }
        var entry = _deliverable[_replayed++];
        if (JournalKinds.RoleOf(entry.Kind) == EntryRole.Cancellation)
        {
            return new ReplayStep(ReplayAction.Cancel, Entry: entry);
        }
        if (_pending.TryGetValue(entry.Sequence, out var operation))
        {
            // Also after the code returned: live, a batch may have journaled outcomes past the one that ended it.
            return new ReplayStep(ReplayAction.Deliver, operation, entry);
        }
        if (codeFault is not null)
        {
            return new ReplayStep(ReplayAction.Fault, Entry: entry, Fault: codeFault);
        }
        var requested = codeReturned
            ? "nothing: the workflow code returned before reaching it"
            : $"nothing at that position (the code is waiting on {DescribePending()})";
        return new ReplayStep(ReplayAction.Block, Entry: entry,
            Nondeterminism: new NondeterminismException(_runId, entry.Sequence, JournalKinds.Describe(entry), requested));
    }

    /// <summary>Every recorded outcome was delivered: from here on the run is live.</summary>
    public void EndReplay() => IsReplaying = false;

    // ---- Live outcomes -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Plans one batch of what the executor's queue delivered: the entries to append and the run change that goes with
    /// them (in one transaction), and then, item by item, what to deliver. A cancellation ends the operations after it in
    /// the batch: their outcomes are neither journaled nor delivered (nor their signals consumed), as replay will see it.
    /// </summary>
    public BatchPlan Plan(IReadOnlyList<InboxItem> batch, DateTimeOffset now)
    {
        var entries = new List<JournalEntry>(batch.Count);
        var steps = new List<PlannedDelivery>(batch.Count);
        RunCustomStatus? status = null;
        List<long>? consumed = null;
        List<ApprovalRecord>? opened = null;
        List<int>? closed = null;
        var cancelInBatch = false;
        TokenTotals? tokens = null;
        foreach (var item in batch)
        {
            switch (item.Kind)
            {
                case InboxItemKind.Status:
                    status = item.Status; // the latest in the batch wins the row; the journal keeps each
                    (_pendingRecords ??= []).Add(new JournalEntry
                    {
                        Sequence = 0, Kind = JournalEntryKind.StatusSet, Name = "status", RecordedAt = item.Status!.At,
                        Payload = KeelJson.Serialize(item.Status, KeelJson.Default),
                    });
                    break;
                case InboxItemKind.Cancel when !IsCancelled && !cancelInBatch:
                    var cancel = new JournalEntry { Sequence = 0, Kind = JournalEntryKind.CancelRequested, Name = "cancel", RecordedAt = now };
                    entries.Add(cancel);
                    cancelInBatch = true;
                    steps.Add(new PlannedDelivery(DeliveryAction.Cancel, Entry: cancel));
                    continue;
                case InboxItemKind.Record:
                    entries.Add(item.Entry!);
                    if (item.OpenApproval is { } open)
                    {
                        (opened ??= []).Add(open);
                    }
                    if (item.ConsumedSignal is { } byRecord)
                    {
                        (consumed ??= []).Add(byRecord);
                    }
                    break;
                case InboxItemKind.Outcome when item.Operation is { IsDone: false } operation && (!cancelInBatch || operation.IsCleanup):
                    entries.Add(item.Entry!);
                    if (item.ConsumedSignal is { } signal)
                    {
                        (consumed ??= []).Add(signal);
                    }
                    if (item.ClosedApproval is { } close)
                    {
                        (closed ??= []).Add(close);
                    }
                    if (item.Tokens is { } used)
                    {
                        tokens = tokens is null ? used : tokens + used; // counted with the entry that journals the call
                    }
                    steps.Add(new PlannedDelivery(DeliveryAction.Deliver, operation, item.Entry));
                    continue;
            }
            steps.Add(new PlannedDelivery(DeliveryAction.Pump));
        }
        if (closed is not null && opened is not null)
        {
            opened.RemoveAll(o => closed.Remove(o.Sequence)); // an approval opened and closed in one batch needs no row
        }
        if (_pendingMarkers is not null && entries.Count > 0)
        {
            entries.InsertRange(0, _pendingMarkers);
            _pendingMarkers = null;
        }
        var change = status is null && consumed is null && opened is not { Count: > 0 } && closed is not { Count: > 0 } && tokens is null
            ? null
            : new RunUpdate
            {
                CustomStatus = status, Inbox = consumed is null ? null : new InboxChange { ConsumedSignals = consumed },
                Approvals = opened is not { Count: > 0 } && closed is not { Count: > 0 } ? null : new ApprovalChange { Opened = opened, Closed = closed },
                Tokens = tokens,
                At = status?.At ?? now,
            };
        return new BatchPlan(entries, change, steps);
    }

    // ---- Waiting ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// When every pending operation waits (for a time, a signal or a person), the earliest time one is due
    /// (<see cref="DateTimeOffset.MaxValue"/> when none has a time); null while any runs or is not started.
    /// </summary>
    public DateTimeOffset? NextDueIfAllWaiting()
    {
        DateTimeOffset? earliest = null;
        foreach (var operation in _pending.Values)
        {
            if (!operation.IsStarted || operation.WaitingUntil is not { } until)
            {
                return null;
            }
            earliest = earliest is null || until < earliest ? until : earliest;
        }
        return earliest;
    }

    /// <summary>
    /// The change that releases the run from memory while everything waits: due at <paramref name="due"/> or when one of
    /// the awaited signals arrives; NeedsAttention (with why) when a step waits for a person, else Waiting (with what a
    /// wait set aside). The payload kinds of a signal name are kept when all its waits agree, for senders to be refused early.
    /// </summary>
    public RunUpdate Release(DateTimeOffset due, IReadOnlyList<SignalWait> waits, DateTimeOffset now)
    {
        var signals = waits.Select(w => w.Name).Distinct(StringComparer.Ordinal).ToList();
        var kinds = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var byName in waits.GroupBy(w => w.Name, StringComparer.Ordinal))
        {
            var perWait = byName.Select(w => w.PayloadKinds).ToList();
            if (perWait.TrueForAll(k => k is not null) && perWait.Select(k => string.Join(',', k!)).Distinct(StringComparer.Ordinal).Count() == 1)
            {
                kinds[byName.Key] = perWait[0]!;
            }
        }
        var attention = _pending.Values.Select(o => o.AttentionNote).OfType<string>().ToList();
        var notes = attention.Count > 0 ? attention : [.. _pending.Values.Select(o => o.WaitNote).OfType<string>()];
        return RunUpdate.ReleaseToWait(attention.Count > 0 ? RunStatus.NeedsAttention : RunStatus.Waiting,
            dueAt: due == DateTimeOffset.MaxValue ? null : due, waitsForSignals: signals.Count > 0 ? signals : null,
            signalPayloadKinds: signals.Count > 0 ? StoreJson.SignalKinds(kinds) : null,
            reason: notes.Count > 0 ? string.Join(" ", notes) : null, at: now);
    }

    /// <summary>
    /// Matches the signals in the run's inbox to its waits, in position order: each wait takes the oldest signal of its
    /// name. A signal whose payload the wait cannot read is set aside (its rejection is to be journaled, the signal
    /// consumed) and the wait looks at the next one. Taken signals are removed from <paramref name="inbox"/>; a wait is
    /// claimed (<see cref="ISignalWaiter.TryResolve"/>) before it takes one, so a deadline that won first keeps it out.
    /// </summary>
    public static List<SignalMatch> MatchSignals(List<ISignalWaiter> waiters, List<StoredSignal> inbox, DateTimeOffset now)
    {
        var matches = new List<SignalMatch>();
        waiters.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        foreach (var waiter in waiters)
        {
            int index;
            while ((index = inbox.FindIndex(s => string.Equals(s.Name, waiter.InboxName, StringComparison.Ordinal))) >= 0)
            {
                var signal = inbox[index];
                if (waiter.Rejects(signal) is { } error)
                {
                    inbox.RemoveAt(index);
                    matches.Add(new SignalMatch(waiter, signal, new JournalEntry
                    {
                        Sequence = waiter.Sequence, Kind = JournalEntryKind.SignalRejected, Name = signal.Name, RecordedAt = now,
                        StartedAt = signal.SentAt, Payload = signal.Payload, Error = error,
                    }));
                    continue;
                }
                if (waiter.TryResolve())
                {
                    inbox.RemoveAt(index);
                    matches.Add(new SignalMatch(waiter, signal, null));
                }
                break;
            }
        }
        return matches;
    }

    // ---- Ending -------------------------------------------------------------------------------------------------------

    /// <summary>The entry and run change that end the run (with its parent told, in the same transaction, if it is a child).</summary>
    public static (JournalEntry Entry, RunUpdate Change) Finish(RunInfo run, JournalEntryKind kind, RunStatus status, ErrorInfo? error,
        string? reason, string? result, DateTimeOffset now, string? record = null)
    {
        var entry = new JournalEntry { Sequence = 0, Kind = kind, Name = run.WorkflowName, RecordedAt = now, Payload = result ?? record, Error = error };
        var parent = run.ParentRunId is { } parentId && run.ParentSequence is { } parentSeq && status.IsTerminal()
            ? new ParentNotice(parentId, ParentNotice.SignalNameFor(parentSeq),
                KeelJson.Serialize(new ChildOutcomeData(status, result, error, reason), KeelJson.Default))
            : null;
        return (entry, RunUpdate.Finish(status, now, result, error, reason, parent));
    }

    /// <summary>The entry and run change that complete the run and create its successor (same workflow, new input, empty journal).</summary>
    public static (JournalEntry Entry, RunUpdate Change) ContinueAsNew(RunInfo run, string nextId, string inputJson, DateTimeOffset now) =>
        (new JournalEntry
        {
            Sequence = 0, Kind = JournalEntryKind.RunContinuedAsNew, Name = run.WorkflowName, RecordedAt = now, Payload = KeelJson.Serialize(nextId, KeelJson.Default),
        },
        RunUpdate.ContinueAsNew(
            new NewRun
            {
                RunId = nextId, WorkflowName = run.WorkflowName, Input = inputJson, Priority = run.Priority, CreatedAt = now,
                ParentRunId = run.ParentRunId, ParentSequence = run.ParentSequence, // a child's parent waits for the last of the chain
                TraceParent = run.TraceParent, // one trace for the whole chain
            },
            $"continued as run {nextId}", now));

    private void MoveClock(DateTimeOffset recordedAt)
    {
        if (recordedAt > Clock)
        {
            Clock = recordedAt; // parallel outcomes may arrive out of time order
        }
    }
}

/// <summary>What the journal holds for a position the code asked for.</summary>
/// <param name="Sequence">The position.</param>
/// <param name="First">The first entry recorded there (null: the operation is new).</param>
/// <param name="Step">For a step without an outcome: its failures, an attempt of unknown outcome, a pending decision.</param>
/// <param name="LastRejection">For a signal wait: the last signal it set aside.</param>
/// <param name="Occurrence">For a step: how many steps of its name the run asked for so far, this one included.</param>
internal sealed record RecordedPosition(int Sequence, JournalEntry? First, StepHistory Step, JournalEntry? LastRejection, int Occurrence);

/// <summary>An operation as the journal state machine sees it.</summary>
internal interface IMachineOperation
{
    int Sequence { get; }

    string Name { get; }

    /// <summary>Its outcome was delivered, or it was cancelled.</summary>
    bool IsDone { get; }

    /// <summary>Started live (a replayed operation never is).</summary>
    bool IsStarted { get; }

    /// <summary>Asked for inside <see cref="WorkflowContext.NonCancellable"/>: the run's cancellation does not end it.</summary>
    bool IsCleanup { get; }

    /// <summary>When it waits until a due time, that time (<see cref="DateTimeOffset.MaxValue"/> for none); null while it runs.</summary>
    DateTimeOffset? WaitingUntil { get; }

    /// <summary>Why it waits for a person, while it does.</summary>
    string? AttentionNote { get; }

    /// <summary>What a person should know about the wait (a signal it set aside).</summary>
    string? WaitNote { get; }

    /// <summary>For an operation that runs user code: where a crash of the process while it runs would be.</summary>
    RecoveryPointData? RecoveryPoint();

    /// <summary>Completes the code's task from a journaled outcome: the one delivery path, replayed or live.</summary>
    void Deliver(JournalEntry entry);

    string Describe();
}

internal enum ReplayAction
{
    Done,
    Deliver,
    Cancel,
    Block,
    Fault,
}

/// <summary>What to do with the next recorded outcome.</summary>
internal readonly record struct ReplayStep(ReplayAction Action, IMachineOperation? Operation = null, JournalEntry? Entry = null,
    NondeterminismException? Nondeterminism = null, Exception? Fault = null);

internal enum DeliveryAction
{
    /// <summary>Nothing to deliver: run the code's queued continuations.</summary>
    Pump,
    Deliver,
    Cancel,
}

/// <summary>After a batch is committed: what to deliver, item by item.</summary>
internal readonly record struct PlannedDelivery(DeliveryAction Action, IMachineOperation? Operation = null, JournalEntry? Entry = null);

/// <summary>A batch: appended in one transaction, then delivered in order.</summary>
internal sealed record BatchPlan(List<JournalEntry> Entries, RunUpdate? Change, List<PlannedDelivery> Deliveries)
{
    public bool WritesAnything => Entries.Count > 0 || Change is not null;
}

/// <summary>A signal matched to a wait: taken, or set aside (<see cref="Rejected"/>: the entry to journal).</summary>
internal readonly record struct SignalMatch(ISignalWaiter Waiter, StoredSignal Signal, JournalEntry? Rejected);

/// <summary>A wait for a signal, as a release records it: the inbox name and the payload kinds the waiting code can read.</summary>
internal readonly record struct SignalWait(string Name, IReadOnlyList<string>? PayloadKinds);
