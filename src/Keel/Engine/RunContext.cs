using Microsoft.Extensions.Logging;

namespace Keel.Engine;

/// <summary>The workflow context of one run on one worker: assigns sequence numbers and checks them against the journal.</summary>
internal sealed class RunContext : WorkflowContext, IDisposable
{
    private readonly RunExecutor _executor;
    private readonly History _history;
    private readonly RetryPolicy _defaultPolicy;
    private readonly int _seed;
    // Made on first use (most runs use neither): seeding one costs ~2 us, 0.5 % of W2's CPU for the two.
    private Random? _random;
    private Random? _guidRandom;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Dictionary<int, Operation> _pending = [];
    private List<Operation> _unstarted = [];
    private List<Operation> _taken = [];
    private readonly ReplaySafeLogger _logger;
    private static readonly StepOptions DefaultStepOptions = new();
    // Flows with the workflow's async calls (the run's scheduler carries the execution context).
    private static readonly AsyncLocal<bool> s_nonCancellable = new();
    private readonly List<JournalEntry> _journal = [];
    private int _lastSequence;
    // The run whose workflow code the executor is running on this thread (inside a pump), for the thread guard.
    [ThreadStatic]
    private static RunContext? t_onScheduler;

    public RunContext(RunExecutor executor, RunInfo run, History history, RetryPolicy defaultPolicy, ILogger logger)
    {
        _executor = executor;
        _history = history;
        _defaultPolicy = defaultPolicy;
        RunId = run.RunId;
        WorkflowName = run.WorkflowName;
        CurrentTime = run.CreatedAt;
        _seed = SeedFor(run.RunId);
        IsReplayingNow = history.Deliverable.Count > 0;
        _logger = new ReplaySafeLogger(logger, this);
    }

    /// <summary>Runs the workflow's entry point with this context as <see cref="WorkflowContext.Current"/>.</summary>
    public Task<object?> EnterAsync(Func<Task<object?>> entry)
    {
        SetCurrent(this);
        return entry();
    }

    /// <summary>Marks this thread as running the run's workflow code until the returned value is passed to <see cref="Leave"/>.</summary>
    public RunContext? Enter()
    {
        var previous = t_onScheduler;
        t_onScheduler = this;
        return previous;
    }

    public static void Leave(RunContext? previous) => t_onScheduler = previous;

    public override string RunId { get; }

    public override string WorkflowName { get; }

    public override bool IsReplaying => IsReplayingNow;

    public bool IsReplayingNow { get; set; }

    public override DateTimeOffset UtcNow => CurrentTime;

    public DateTimeOffset CurrentTime { get; private set; }

    /// <summary>Moves the replay-safe clock to an entry's time; never backwards (parallel outcomes may arrive out of time order).</summary>
    public void AdvanceTime(DateTimeOffset recordedAt)
    {
        if (recordedAt > CurrentTime)
        {
            CurrentTime = recordedAt;
        }
    }

    public override Random Random => _random ??= new Random(_seed);

    public override ILogger Logger => _logger;

    public override CancellationToken CancellationToken => _cancel.Token;

    public bool IsCancelled => _cancel.IsCancellationRequested;

    public NondeterminismException? Nondeterminism { get; private set; }

    public IReadOnlyDictionary<int, Operation> Pending => _pending;

    public void Dispose() => _cancel.Dispose();

    public override Guid NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        (_guidRandom ??= new Random(unchecked(_seed * 31 + 7))).NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    public override Task<T> StepAsync<T>(string name, Func<StepContext, Task<T>> body, StepOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(body);
        options ??= DefaultStepOptions;
        // An AtMostOnce body that threw may have acted: it is retried only when the workflow gave a policy.
        var policy = options.Retry ?? (options.Effect == StepEffect.AtMostOnce ? RetryPolicy.None : _defaultPolicy);
        policy.Validate();
        if (!TryTakeSequence(name, "step", out var sequence, JournalEntryKind.StepCompleted, JournalEntryKind.StepFailed, JournalEntryKind.StepAttemptFailed,
                JournalEntryKind.StepStarted, JournalEntryKind.StepNeedsAttention, JournalEntryKind.StepResolved))
        {
            return new TaskCompletionSource<T>().Task;
        }
        var nonCancellable = s_nonCancellable.Value;
        if (IsCancelled && !nonCancellable)
        {
            return Task.FromCanceled<T>(_cancel.Token);
        }
        // Guards see the journal as it is when the code asks for the step: the same on every replay.
        IReadOnlyList<JournalEntry> journalSoFar = options.Requires.Count > 0 ? [.. _journal] : [];
        var operation = new StepOperation<T>(sequence, name, body, policy, _history.StepFor(sequence), options, journalSoFar) { IsCleanup = nonCancellable };
        Add(operation);
        return operation.Task;
    }

    public override Task<TResult> RunChildAsync<TInput, TResult>(string workflowName, TInput input, StartWorkflowOptions? options = null, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        if (timeout is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(timeout));
        }
        if (!TryTakeSequence(workflowName, "child run", out var sequence, JournalEntryKind.ChildStarted, JournalEntryKind.ChildCompleted, JournalEntryKind.ChildFailed))
        {
            return new TaskCompletionSource<TResult>().Task;
        }
        if (options?.RunId is { } given)
        {
            RunIds.Validate(given);
        }
        var childId = options?.RunId ?? $"{RunId}.{sequence}";
        var alreadyStarted = _history.FirstEntryFor(sequence) is not null;
        var childInput = KeelJson.Serialize(input, _executor.SerializerOptions);
        PayloadLimits.Check(childInput, _executor.Limits.MaxRunInputBytes, nameof(PayloadLimits.MaxRunInputBytes), (childId, workflowName),
            static s => $"input of child run '{s.childId}' of workflow '{s.workflowName}'");
        var operation = new ChildOperation<TResult>(_executor, sequence, childId, workflowName,
            childInput, options?.Priority ?? 0, RunId, alreadyStarted, timeout, timeout is { } wait ? UtcNow + wait : null);
        if (IsCancelled)
        {
            operation.Cancel(_cancel.Token); // the child, if a crash left it started, is cancelled too
            return operation.Task;
        }
        Add(operation);
        return operation.Task;
    }

    public override Exception ContinueAsNew<TInput>(TInput input)
    {
        var json = KeelJson.Serialize(input, _executor.SerializerOptions);
        PayloadLimits.Check(json, _executor.Limits.MaxRunInputBytes, nameof(PayloadLimits.MaxRunInputBytes), RunId,
            static id => $"input run '{id}' continues as new with");
        return new ContinueAsNewException(json);
    }

    public override IDisposable NonCancellable()
    {
        var outer = s_nonCancellable.Value;
        s_nonCancellable.Value = true;
        return new Scope(() => s_nonCancellable.Value = outer);
    }

    public override Task SleepUntilAsync(DateTimeOffset until, string name = "sleep")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!TryTakeSequence(name, "timer", out var sequence, JournalEntryKind.TimerFired))
        {
            return new TaskCompletionSource().Task;
        }
        var cleanup = s_nonCancellable.Value;
        if (IsCancelled && !cleanup)
        {
            return Task.FromCanceled(_cancel.Token);
        }
        var operation = new TimerOperation(sequence, name, until) { IsCleanup = cleanup };
        Add(operation);
        return operation.Task;
    }

    public override Task<T> WaitForSignalAsync<T>(string name, TimeSpan? timeout = null)
    {
        SignalNames.Validate(name);
        if (timeout is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(timeout));
        }
        if (!TryTakeSequence(name, "signal", out var sequence, JournalEntryKind.SignalReceived, JournalEntryKind.SignalTimedOut))
        {
            return new TaskCompletionSource<T>().Task;
        }
        var cleanup = s_nonCancellable.Value;
        if (IsCancelled && !cleanup)
        {
            return Task.FromCanceled<T>(_cancel.Token);
        }
        var operation = new SignalWaitOperation<T>(sequence, name, timeout is { } wait ? UtcNow + wait : null, timeout) { IsCleanup = cleanup };
        if (_history.LastRejectionFor(sequence) is { } rejected)
        {
            operation.WaitNote = SignalWaitOperation<T>.NoteFor(rejected); // it still says so after a restart
        }
        Add(operation);
        return operation.Task;
    }

    public override Task<ApprovalDecision<TArgs>> RequestApprovalAsync<TArgs>(ApprovalRequest<TArgs> request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Name, nameof(request));
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Title, nameof(request));
        if (request.Timeout is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(request));
        }
        if (!TryTakeSequence(request.Name, "approval", out var sequence, JournalEntryKind.ApprovalRequested, JournalEntryKind.ApprovalDecided))
        {
            return new TaskCompletionSource<ApprovalDecision<TArgs>>().Task;
        }
        var cleanup = s_nonCancellable.Value;
        if (IsCancelled && !cleanup)
        {
            return Task.FromCanceled<ApprovalDecision<TArgs>>(_cancel.Token);
        }
        var arguments = System.Text.Json.JsonSerializer.SerializeToElement(request.Arguments, KeelJson.TypeInfo<TArgs>(_executor.SerializerOptions));
        PayloadLimits.Check(arguments.GetRawText(), _executor.Limits.MaxApprovalArgumentsBytes, nameof(PayloadLimits.MaxApprovalArgumentsBytes),
            (request.Name, RunId), static s => $"arguments of approval '{s.Name}' of run '{s.RunId}'");
        var data = new ApprovalRequestData(request.Title, request.Details, request.Action, arguments,
            request.Options.Count == 0 ? null : request.Options, request.Timeout is { } timeout ? UtcNow + timeout : null);
        var alreadyRequested = _history.FirstEntryFor(sequence) is not null;
        var operation = new ApprovalOperation<TArgs>(sequence, request, data, alreadyRequested) { IsCleanup = cleanup };
        Add(operation);
        return operation.Task;
    }

    /// <summary>Takes the next sequence number, checking the journal recorded the same kind of operation, with this name, there.</summary>
    private bool TryTakeSequence(string name, string what, out int sequence, params ReadOnlySpan<JournalEntryKind> kinds)
    {
        if (t_onScheduler != this)
        {
            throw new InvalidOperationException(
                $"The {what} '{name}' of run '{RunId}' was asked for outside the run's scheduler (on a thread-pool thread, a timer " +
                "or another thread, or in a step body), where replay cannot give it the same position. Workflow code must not use " +
                "Task.Run, timers or threads, nor go on with ConfigureAwait(false) after awaiting something that is not a durable " +
                "operation (its continuation then runs on the thread pool); do I/O in steps.");
        }
        sequence = ++_lastSequence;
        var recorded = _history.FirstEntryFor(sequence);
        if (recorded is not null && (!kinds.Contains(recorded.Kind) || !string.Equals(recorded.Name, name, StringComparison.Ordinal)))
        {
            Nondeterminism ??= new NondeterminismException(RunId, sequence, History.Describe(recorded), $"{what} '{name}'");
            return false; // the caller returns a task that never completes: the executor blocks the run
        }
        return true;
    }

    private void Add(Operation operation)
    {
        _pending.Add(operation.Sequence, operation);
        _unstarted.Add(operation);
    }

    public override void SetStatus(string text, object? data = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsReplaying)
        {
            return;
        }
        var json = data is null ? null : System.Text.Json.JsonSerializer.Serialize(data, KeelJson.TypeInfo(_executor.SerializerOptions, data.GetType()));
        _executor.Post(new InboxItem(InboxItemKind.Status, Status: new RunCustomStatus(text, json, _executor.Now)));
    }

    /// <summary>An outcome is delivered: the operation is no longer pending, and the entry joins the journal guards see.</summary>
    public void Delivered(Operation operation, JournalEntry entry)
    {
        _pending.Remove(operation.Sequence);
        _journal.Add(entry);
    }

    /// <summary>Whether operations were created since the last <see cref="TakeUnstarted"/>.</summary>
    public bool HasUnstarted => _unstarted.Count > 0;

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

    /// <summary>Takes the operations created since the last call, for the executor to start live.</summary>
    public List<Operation> TakeUnstarted()
    {
        (_taken, _unstarted) = (_unstarted, _taken);
        _unstarted.Clear();
        return _taken;
    }

    /// <summary>Delivers cancellation: the context's token fires and every pending operation ends cancelled.</summary>
    public void DeliverCancel()
    {
        _cancel.Cancel();
        foreach (var operation in _pending.Values.ToList())
        {
            if (!operation.IsCleanup)
            {
                operation.Cancel(_cancel.Token);
                _pending.Remove(operation.Sequence);
                _unstarted.Remove(operation);
            }
        }
    }

    public string DescribePending() =>
        _pending.Count == 0 ? "nothing" : string.Join(", ", _pending.Values.Select(o => $"{o.Describe()} at position {o.Sequence}"));

    // FNV-1a: stable across processes and .NET versions, unlike string.GetHashCode.
    private static int SeedFor(string runId)
    {
        var hash = 2166136261u;
        foreach (var c in runId)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }
        return unchecked((int)hash);
    }

    private sealed class Scope(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }

    private sealed class ReplaySafeLogger(ILogger inner, RunContext context) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
