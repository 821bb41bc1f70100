using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Keel.Engine;

/// <summary>The workflow context of one run on one worker: validates what the code asks for, has the journal state
/// machine place it, and creates the operations that execute it.</summary>
internal sealed class RunContext : WorkflowContext, IDisposable
{
    private readonly IOperationHost _host;
    private readonly JournalMachine _machine;
    private readonly RetryPolicy _defaultPolicy;
    private readonly int _seed;
    // Made on first use (most runs use neither): seeding one costs ~2 us, 0.5 % of W2's CPU for the two.
    private Random? _random;
    private Random? _guidRandom;
    private readonly CancellationTokenSource _cancel = new();
    private readonly ReplaySafeLogger _logger;
    private static readonly StepOptions DefaultStepOptions = new();
    // Flows with the workflow's async calls (the run's scheduler carries the execution context).
    private static readonly AsyncLocal<bool> s_nonCancellable = new();
    // The run whose workflow code the executor is running on this thread (inside a pump), for the thread guard.
    [ThreadStatic]
    private static RunContext? t_onScheduler;

    public RunContext(IOperationHost host, JournalMachine machine, RunInfo run, RetryPolicy defaultPolicy, ILogger logger)
    {
        _host = host;
        _machine = machine;
        _defaultPolicy = defaultPolicy;
        RunId = run.RunId;
        WorkflowName = run.WorkflowName;
        _seed = SeedFor(run.RunId);
        _logger = new ReplaySafeLogger(logger, this);
    }

    internal override RunMessages Messages => _host.Messages;

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

    /// <summary>
    /// Runs the run's workflow code on this thread: the delivery (whose continuations run inline), then the scheduler's
    /// queue until the code waits again, with the thread marked as the run's for the thread guard.
    /// </summary>
    public void RunCode(WorkflowScheduler scheduler, Action? deliver)
    {
        var previous = Enter();
        try
        {
            deliver?.Invoke();
            scheduler.RunUntilIdle();
        }
        finally
        {
            Leave(previous);
        }
    }

    public override string RunId { get; }

    public override string WorkflowName { get; }

    public override bool IsReplaying => _machine.IsReplaying;

    public override DateTimeOffset UtcNow => _machine.Clock;

    public override Random Random => _random ??= new Random(_seed);

    public override ILogger Logger => _logger;

    public override CancellationToken CancellationToken => _cancel.Token;

    private bool IsCancelled => _machine.IsCancelled;

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
        if (Admit(OperationKind.Step, name) is not { } position)
        {
            return new TaskCompletionSource<T>().Task; // blocked: the executor stops the run
        }
        var nonCancellable = s_nonCancellable.Value;
        if (IsCancelled && !nonCancellable)
        {
            return Task.FromCanceled<T>(_cancel.Token);
        }
        // Guards see the journal as it is when the code asks for the step: the same on every replay.
        var journalSoFar = options.Requires.Count > 0 ? _machine.JournalSoFar() : [];
        // Which step of its name this is, for its default idempotency key; 0 keeps a run upgraded in flight on keys by position.
        var keyOccurrence = _machine.RecordedVersion(KeySchemeChange) == DefaultVersion ? 0 : position.Occurrence;
        var operation = new StepOperation<T>(_host, position.Sequence, name, body, policy, position.Step, options, journalSoFar, keyOccurrence) { IsCleanup = nonCancellable };
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
        if (Admit(OperationKind.ChildRun, workflowName) is not { } position)
        {
            return new TaskCompletionSource<TResult>().Task;
        }
        var sequence = position.Sequence;
        if (options?.RunId is { } given)
        {
            RunIds.Validate(given);
        }
        var childId = options?.RunId ?? $"{RunId}.{sequence}";
        var alreadyStarted = position.First is not null;
        var childInput = KeelJson.Serialize(input, _host.SerializerOptions);
        PayloadLimits.Check(childInput, _host.Limits.MaxRunInputBytes, nameof(PayloadLimits.MaxRunInputBytes), (childId, workflowName),
            static s => $"input of child run '{s.childId}' of workflow '{s.workflowName}'");
        var operation = new ChildOperation<TResult>(_host, sequence, childId, workflowName,
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
        var json = KeelJson.Serialize(input, _host.SerializerOptions);
        PayloadLimits.Check(json, _host.Limits.MaxRunInputBytes, nameof(PayloadLimits.MaxRunInputBytes), RunId,
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
        if (Admit(OperationKind.Timer, name) is not { } position)
        {
            return new TaskCompletionSource().Task;
        }
        var cleanup = s_nonCancellable.Value;
        if (IsCancelled && !cleanup)
        {
            return Task.FromCanceled(_cancel.Token);
        }
        _machine.WaitBegan(position, OperationKind.Timer, name, until, _host.Now);
        var operation = new TimerOperation(_host, position.Sequence, name, until) { IsCleanup = cleanup };
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
        if (Admit(OperationKind.Signal, name) is not { } position)
        {
            return new TaskCompletionSource<T>().Task;
        }
        var cleanup = s_nonCancellable.Value;
        if (IsCancelled && !cleanup)
        {
            return Task.FromCanceled<T>(_cancel.Token);
        }
        var deadline = timeout is { } wait ? UtcNow + wait : (DateTimeOffset?)null;
        _machine.WaitBegan(position, OperationKind.Signal, name, deadline, _host.Now);
        var operation = new SignalWaitOperation<T>(_host, position.Sequence, name, deadline, timeout) { IsCleanup = cleanup };
        if (position.LastRejection is { } rejected)
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
        if (Admit(OperationKind.Approval, request.Name) is not { } position)
        {
            return new TaskCompletionSource<ApprovalDecision<TArgs>>().Task;
        }
        var cleanup = s_nonCancellable.Value;
        if (IsCancelled && !cleanup)
        {
            return Task.FromCanceled<ApprovalDecision<TArgs>>(_cancel.Token);
        }
        var arguments = System.Text.Json.JsonSerializer.SerializeToElement(request.Arguments, KeelJson.TypeInfo<TArgs>(_host.SerializerOptions));
        PayloadLimits.Check(arguments.GetRawText(), _host.Limits.MaxApprovalArgumentsBytes, nameof(PayloadLimits.MaxApprovalArgumentsBytes),
            (request.Name, RunId), static s => $"arguments of approval '{s.Name}' of run '{s.RunId}'");
        var data = new ApprovalRequestData(request.Title, request.Details, request.Action, arguments,
            request.Options.Count == 0 ? null : request.Options, request.Timeout is { } timeout ? UtcNow + timeout : null);
        var operation = new ApprovalOperation<TArgs>(_host, position.Sequence, request, data, alreadyRequested: position.First is not null) { IsCleanup = cleanup };
        Add(operation);
        return operation.Task;
    }

    private void Add(Operation operation) => _machine.Add(operation);

    /// <summary>
    /// Has the machine place an operation the code asks for, after checking the code asks from the run's scheduler: only
    /// there does replay give it the same position. Null when the journal recorded something else there.
    /// </summary>
    private RecordedPosition? Admit(OperationKind kind, string name)
    {
        EnsureOnScheduler(JournalKinds.Noun(kind), name);
        return _machine.Admit(kind, name);
    }

    private void EnsureOnScheduler(string what, string name)
    {
        if (t_onScheduler != this)
        {
            throw new InvalidOperationException(
                $"The {what} '{name}' of run '{RunId}' was asked for outside the run's scheduler (on a thread-pool thread, a timer " +
                "or another thread, or in a step body), where replay cannot give it the same position. Workflow code must not use " +
                "Task.Run, timers or threads, nor go on with ConfigureAwait(false) after awaiting something that is not a durable " +
                "operation (its continuation then runs on the thread pool); do I/O in steps.");
        }
    }

    /// <summary>The change whose version -1 (journaled by the store upgrade in every unfinished run) keeps a run on the default
    /// idempotency keys by position; other runs key steps by name and occurrence (<see cref="StepContext.IdempotencyKey"/>).</summary>
    private const string KeySchemeChange = "keel.idempotency-key";

    public override int GetVersion(string changeId, int minSupported, int maxSupported)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(changeId);
        if (changeId.StartsWith("keel.", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Change ids starting with 'keel.' are Keel's own ('{changeId}'): name your change otherwise.", nameof(changeId));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(minSupported, DefaultVersion);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSupported, minSupported);
        EnsureOnScheduler("version check", changeId);
        var (version, error) = _machine.Version(changeId, minSupported, maxSupported, _host.Now);
        return error is null ? version : throw error; // the executor blocks the run when the pump returns
    }

    public override void Plan(params string[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("A plan's items are names of the operations that do them: none may be empty.", nameof(steps));
        }
        EnsureOnScheduler("plan", "plan");
        _machine.DeclarePlan([.. steps], _host.Now);
    }

    internal override void RecordToolChoice(string tool, string? model, JsonElement? arguments)
    {
        EnsureOnScheduler("tool choice", tool);
        _machine.ToolChosen(tool, model, arguments, _host.Now);
    }

    public override void SetStatus(string text, object? data = null) => SetStatus(text, data, null);

    public override void SetStatus(string text, (int Done, int Total) progress) => SetStatus(text, null, progress);

    private void SetStatus(string text, object? data, (int Done, int Total)? progress)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (progress is { } p && (p.Done < 0 || p.Total < 0 || p.Done > p.Total))
        {
            throw new ArgumentOutOfRangeException(nameof(progress), progress, "Progress is (done, total) with 0 <= done <= total.");
        }
        if (IsReplaying)
        {
            return;
        }
        var json = data is null ? null : System.Text.Json.JsonSerializer.Serialize(data, KeelJson.TypeInfo(_host.SerializerOptions, data.GetType()));
        _host.Post(new InboxItem(InboxItemKind.Status, Status: new RunCustomStatus(text, json, _host.Now)
        {
            Progress = progress is { } done ? new StatusProgress(done.Done, done.Total) : null,
        }));
    }

    /// <summary>Delivers cancellation recorded at <paramref name="recordedAt"/>: the context's token fires and every
    /// pending operation but cleanup ones ends cancelled.</summary>
    public void DeliverCancel(DateTimeOffset recordedAt)
    {
        var ended = _machine.Cancel(recordedAt);
        _cancel.Cancel();
        foreach (var operation in ended)
        {
            ((Operation)operation).Cancel(_cancel.Token);
        }
    }

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
