using System.Diagnostics;
using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// A step: runs its body live, attempt by attempt, journaling each failure durably before retrying. An AtMostOnce
/// step commits a started record before each attempt's body; one found started without an outcome is not run again
/// but checked, or handed to a person (NeedsAttention). So is a step whose preconditions do not hold.
/// </summary>
internal sealed class StepOperation<T>(IOperationHost host, int sequence, string name, Func<StepContext, Task<T>> body, RetryPolicy policy,
    StepHistory history, StepOptions options, IReadOnlyList<JournalEntry> journalSoFar, int keyOccurrence) : Operation(host, sequence, name)
{
    // Continuations run synchronously, on the executor's thread, when it delivers: combinators such as Task.WhenAny
    // then complete in delivery order, and workflow awaits are queued to the run's scheduler. Asynchronous
    // continuations would race on the thread pool and make replay nondeterministic.
    private readonly TaskCompletionSource<T> _tcs = new();
    private readonly List<StepAttemptFailure> _failures = [.. history.Failures];
    private int _attentions = history.AttentionCount;
    // The completed entry this live attempt posted, with its payload already read back.
    private (JournalEntry? Entry, T Value) _recorded;

    public Task<T> Task => _tcs.Task;

    public override string Describe() => $"step '{Name}'";

    public override RecoveryPointData? RecoveryPoint() => new("step", Name, Sequence, _failures.Count + 1);

    protected override void Complete(JournalEntry entry)
    {
        if (entry.Kind != JournalEntryKind.StepCompleted)
        {
            _tcs.TrySetException(new StepFailedException(Name, entry.Attempt, entry.Error ?? new ErrorInfo("Unknown", "no error recorded")));
            return;
        }
        // The value read back from the entry, as on replay; read on the body's thread when the attempt was recorded (a
        // value that does not read back fails the attempt there). A recorded value that no longer reads (the type
        // changed under a journal) throws: the run's recovery fails and it is held, not driven down another path.
        var value = ReferenceEquals(entry, _recorded.Entry) ? _recorded.Value
            : entry.Payload is null ? default! : KeelJson.Deserialize<T>(entry.Payload, Host.SerializerOptions)!;
        _recorded = default;
        _tcs.TrySetResult(value);
    }

    public override void Cancel(CancellationToken token)
    {
        IsDone = true;
        _tcs.TrySetCanceled(token);
    }

    public override void Start()
    {
        IsStarted = true;
        _ = System.Threading.Tasks.Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        // A cleanup step (a non-cancellable scope) runs on after the run is cancelled; only shutdown stops it.
        var token = Token;
        try
        {
            if (await SettleBeforeFirstAttemptAsync(token) is { } settled)
            {
                PostResolvedOutcome(settled);
                return;
            }
            await RunAttemptsAsync(token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested || Host.AbortToken.IsCancellationRequested)
        {
            // the run is going away; nothing to record
        }
        catch (LeaseLostException)
        {
            // the executor dropped the run: another worker continues it
        }
        catch (Exception ex)
        {
            Host.Fault(ex);
        }
    }

    /// <summary>
    /// What must be settled before the body may run: a resolution journaled before a crash, an attempt whose outcome
    /// is unknown, a precondition. Returns a resolution that completes or fails the step, or null to run attempts.
    /// </summary>
    private async Task<StepResolutionData?> SettleBeforeFirstAttemptAsync(CancellationToken token)
    {
        if (history.PendingResolution is { } pending)
        {
            return pending; // resolved before the process stopped; the outcome entry was not written yet
        }
        if (history.UnknownAttempt is { } unknown)
        {
            var resolution = history.Attention is null && options.CheckUnknownOutcome is not null
                ? await CheckUnknownOutcomeAsync(unknown, token)
                : null;
            resolution ??= await AskPersonAsync(history.Attention, UnknownOutcome(unknown, null), token);
            return Apply(resolution, unknown);
        }
        if (history.Attention is { } attention)
        {
            return Apply(await AskPersonAsync(attention, AttentionReason.FromEntry(attention), token), null);
        }
        if (options.Requires.Count > 0 && !history.GuardOverridden && _failures.Count == 0)
        {
            var missing = options.Requires.Where(g => !g.Holds(journalSoFar)).Select(g => g.Description).ToList();
            if (missing.Count > 0)
            {
                var reason = new AttentionReason { Kind = AttentionKind.PreconditionNotMet, Step = Name, Position = Sequence, Unmet = missing };
                return Apply(await AskPersonAsync(null, reason, token), null);
            }
        }
        return null;
    }

    /// <summary>A retry goes on to the next attempt (the unknown one counted as failed); complete and fail settle the step.</summary>
    private StepResolutionData? Apply(StepResolutionData resolution, JournalEntry? unknown)
    {
        AttentionNote = null;
        if (resolution.Action != StepResolutionAction.Retry)
        {
            return resolution;
        }
        if (unknown is not null && !_failures.Any(f => f.Attempt == unknown.Attempt))
        {
            _failures.Add(StepHistory.UnknownAttemptRetried(unknown, resolution));
        }
        return null;
    }

    private AttentionReason UnknownOutcome(JournalEntry unknown, string? checkNote) => new()
    {
        Kind = AttentionKind.OutcomeUnknown, Step = Name, Position = Sequence, Attempt = unknown.Attempt,
        AttemptStartedAt = unknown.StartedAt ?? unknown.RecordedAt, Detail = checkNote,
    };

    /// <summary>Runs the step's outcome check; returns its resolution (journaled), or null when it could not tell.</summary>
    private async Task<StepResolutionData?> CheckUnknownOutcomeAsync(JournalEntry unknown, CancellationToken token)
    {
        var context = NewContext(unknown.Attempt, token);
        UnknownOutcomeCheck check;
        Host.BodyStarted();
        try
        {
            check = await options.CheckUnknownOutcome!(context);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            check = UnknownOutcomeCheck.StillUnknown($"the check failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            Host.BodyFinished();
        }
        StepResolutionData resolution;
        switch (check.Kind)
        {
            case UnknownOutcomeKind.Happened:
                string result;
                try
                {
                    result = KeelJson.Serialize((T?)check.Result, Host.SerializerOptions);
                }
                catch (Exception ex) when (ex is InvalidCastException or NotSupportedException or JsonException)
                {
                    return await AskPersonAsync(null, UnknownOutcome(unknown,
                        $"the effect happened, but its result is not a {typeof(T).Name}: {ex.Message}"), token);
                }
                resolution = new StepResolutionData(StepResolutionAction.Complete, result, check.Note, "outcome check", Host.Now);
                break;
            case UnknownOutcomeKind.DidNotHappen:
                resolution = new StepResolutionData(StepResolutionAction.Retry, null, check.Note, "outcome check", Host.Now);
                break;
            default:
                return await AskPersonAsync(null, UnknownOutcome(unknown, check.Note), token);
        }
        await Host.RecordAsync(ResolvedEntry(resolution), token);
        return resolution;
    }

    /// <summary>
    /// Hands the step to a person: journals why (once, as structured facts), waits for their decision (the run is
    /// released as NeedsAttention meanwhile) and journals it.
    /// </summary>
    private async Task<StepResolutionData> AskPersonAsync(JournalEntry? recorded, AttentionReason reason, CancellationToken token)
    {
        if (recorded is null)
        {
            await Host.RecordAsync(new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.StepNeedsAttention, Name = Name, RecordedAt = Host.Now, Payload = reason.ToJson(),
                Attempt = reason.Attempt,
            }, token);
            _attentions++;
        }
        // The waiter is registered before the step counts as waiting: a release must name the signal it waits for.
        var waiter = new ResolutionWaiter(this, StepResolutionData.SignalName(Sequence, _attentions));
        Host.AddSignalWaiter(waiter);
        AttentionNote = reason.ToString();
        WaitingUntil = DateTimeOffset.MaxValue; // nothing to do until a person decides: the run may be released
        Host.Wake();
        (StepResolutionData Resolution, long SignalId) decision;
        try
        {
            decision = await waiter.Decision.WaitAsync(token);
        }
        finally
        {
            WaitingUntil = null;
        }
        // Journaled, with the signal consumed in the same transaction, before the step acts on it.
        await Host.RecordAsync(ResolvedEntry(decision.Resolution), token, decision.SignalId);
        return decision.Resolution;
    }

    private JournalEntry ResolvedEntry(StepResolutionData resolution) => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.StepResolved, Name = Name, RecordedAt = Host.Now, Payload = resolution.ToJson(),
    };

    /// <summary>Journals and delivers the outcome a resolution gave the step.</summary>
    private void PostResolvedOutcome(StepResolutionData resolution)
    {
        var attempt = _failures.Count + 1;
        if (resolution.Action == StepResolutionAction.Complete)
        {
            try
            {
                _ = resolution.Result is null ? default : KeelJson.Deserialize<T>(resolution.Result, Host.SerializerOptions);
                PostOutcome(new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.StepCompleted, Name = Name, Attempt = attempt, RecordedAt = Host.Now,
                    Payload = resolution.Result ?? "null",
                });
                return;
            }
            catch (JsonException ex)
            {
                resolution = resolution with
                {
                    Action = StepResolutionAction.Fail,
                    Reason = $"the result given ({resolution.Result}) is not a {typeof(T).Name}: {ex.Message}",
                };
            }
        }
        var error = new ErrorInfo("Keel.ResolvedAsFailed", $"Step '{Name}' was resolved as failed by {resolution.By ?? "someone"}" +
                                                          (resolution.Reason is { } why ? $": {why}" : ".")) { IsTerminal = true };
        PostOutcome(new JournalEntry
        {
            Sequence = Sequence, Kind = JournalEntryKind.StepFailed, Name = Name, Attempt = attempt, RecordedAt = Host.Now, Error = error,
        });
    }

    private async Task RunAttemptsAsync(CancellationToken token)
    {
        var attempt = _failures.Count + 1;
        if (_failures.Count > 0 && _failures[^1].RetryAt is { } due)
        {
            await WaitUntilAsync(due, token); // durable backoff: resumes the recorded schedule
        }
        while (!Host.IsDraining)
        {
            // Counted as in flight until its outcome is posted or journaled, so a drain waits for it.
            Host.BodyStarted();
            DateTimeOffset retryAt;
            try
            {
                var next = await RunAndRecordAttemptAsync(attempt, token);
                if (next is null)
                {
                    return;
                }
                retryAt = next.Value;
            }
            finally
            {
                Host.BodyFinished();
            }
            await WaitUntilAsync(retryAt, token);
            attempt++;
        }
    }

    private async Task WaitUntilAsync(DateTimeOffset due, CancellationToken token)
    {
        WaitingUntil = due;
        Host.Wake(); // the executor may release the run from memory until it is due
        try
        {
            await Host.DelayUntilAsync(due, token);
        }
        finally
        {
            WaitingUntil = null;
        }
    }

    /// <summary>Runs one attempt and records its outcome; returns when the next attempt is due, or null when done.</summary>
    private async Task<DateTimeOffset?> RunAndRecordAttemptAsync(int attempt, CancellationToken token)
    {
        await Host.WaitForSuspectsAsync(token);
        await Host.StepSlots.WaitAsync(token); // the run's limit on bodies executing at once
        AttemptError? error;
        T? result;
        DateTimeOffset startedAt;
        try
        {
            if (!Host.MayStartWork())
            {
                return null; // the lease may have lapsed: another worker may run this step; this one starts nothing
            }
            startedAt = Host.Now;
            if (options.Effect == StepEffect.AtMostOnce)
            {
                // Committed before the body runs: after a crash, the journal tells that this attempt may have acted.
                await Host.RecordAsync(new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.StepStarted, Name = Name, Attempt = attempt, RecordedAt = startedAt, StartedAt = startedAt,
                }, token);
            }
            (result, error) = await RunOneAttemptAsync(attempt, token);
        }
        finally
        {
            Host.StepSlots.Release();
        }
        if (token.IsCancellationRequested)
        {
            return null; // cancelled or shutting down: the outcome is not this step's to record
        }
        var payload = "";
        T readBack = default!;
        if (error is null)
        {
            error = Record(result, out payload, out readBack);
        }
        if (error is null)
        {
            var completed = new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.StepCompleted, Name = Name, Attempt = attempt,
                StartedAt = startedAt, RecordedAt = Host.Now, Payload = payload,
            };
            _recorded = (completed, readBack);
            Host.PostFromBody(new InboxItem(InboxItemKind.Outcome, this, completed, Tokens: _modelUsage));
            return null;
        }

        if (error.IsTerminal || attempt - history.BudgetStart >= policy.MaxAttempts)
        {
            Host.PostFromBody(new InboxItem(InboxItemKind.Outcome, this, new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.StepFailed, Name = Name, Attempt = attempt,
                StartedAt = startedAt, RecordedAt = Host.Now, Error = error.Info,
            }));
            return null;
        }

        var now = Host.Now;
        var retryAt = now + (error.RetryAfter ?? policy.DelayAfter(attempt - history.BudgetStart));
        await Host.RecordAsync(new JournalEntry
        {
            Sequence = Sequence, Kind = JournalEntryKind.StepAttemptFailed, Name = Name, Attempt = attempt,
            StartedAt = startedAt, RecordedAt = now, Error = error.Info, RetryAt = retryAt,
        }, token);
        _failures.Add(new StepAttemptFailure(attempt, error.Info, startedAt, now, retryAt));
        Host.OnStepRetrying(Name, attempt, error.Info, retryAt);
        return retryAt;
    }

    /// <summary>
    /// The result as it is journaled, and read back as the workflow will see it (live and on every replay alike). A
    /// result that cannot be written, is too large, or does not read back as <typeparamref name="T"/> fails the attempt
    /// for good: another attempt would produce the same.
    /// </summary>
    private AttemptError? Record(T? result, out string payload, out T readBack)
    {
        payload = "";
        readBack = default!;
        try
        {
            payload = KeelJson.Serialize(result, Host.SerializerOptions);
            PayloadLimits.Check(payload, Host.Limits.MaxResultBytes, nameof(PayloadLimits.MaxResultBytes), (Name, Host.RunId),
                static s => $"result of step '{s.Name}' of run '{s.RunId}'");
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            return new AttemptError(new ErrorInfo(ex.GetType().FullName!, $"The result of step '{Name}' cannot be serialized: {ex.Message}") { IsTerminal = true }, null);
        }
        catch (PayloadTooLargeException ex)
        {
            return new AttemptError(new ErrorInfo(ex.GetType().FullName!, ex.Message) { IsTerminal = true }, null);
        }
        try
        {
            readBack = KeelJson.Deserialize<T>(payload, Host.SerializerOptions)!;
            return null;
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            return new AttemptError(new ErrorInfo(ex.GetType().FullName!,
                $"The result of step '{Name}' does not read back from its JSON as {typeof(T).Name}, so a replay could not return it: {ex.Message}") { IsTerminal = true }, null);
        }
    }

    // The model usage the last successful attempt reported: counted in the run's totals with the outcome's append.
    private TokenTotals? _modelUsage;

    private StepContext NewContext(int attempt, CancellationToken token) =>
        new(Host.RunId, Name, Sequence, attempt, _failures.Count == 0 ? [] : [.. _failures], token, options.Effect, options.IdempotencyKey, keyOccurrence);

    private async Task<(T? Result, AttemptError? Error)> RunOneAttemptAsync(int attempt, CancellationToken runToken)
    {
        // With a timeout, the attempt's token fires on the run's token or, measured on the worker's TimeProvider, on
        // the timeout. Without one (the common case) the body gets the run's token and nothing is allocated.
        using var timeoutCts = policy.AttemptTimeout is { } timeout ? new CancellationTokenSource(timeout, Host.TimeProvider) : null;
        using var attemptCts = timeoutCts is null ? null : CancellationTokenSource.CreateLinkedTokenSource(runToken, timeoutCts.Token);
        var context = NewContext(attempt, attemptCts?.Token ?? runToken);
        var stopwatch = Stopwatch.StartNew();
        using var activity = Host.StartStepActivity(Name, Sequence, attempt);
        Task<T>? bodyTask = null;
        var outcome = "cancelled";
        try
        {
            Host.StepStarting?.Invoke(context);
            bodyTask = body(context);
            // One clock decides a timeout: the attempt token. A body that ignores it is abandoned when it fires.
            var result = attemptCts is null ? await bodyTask : await bodyTask.WaitAsync(attemptCts.Token);
            _modelUsage = context.ModelUsage;
            outcome = "completed";
            return (result, null);
        }
        catch (Exception ex) when (!runToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            outcome = "failed";
            // A body's own TimeoutException (an upstream timing out) is an ordinary failure, not the attempt timeout.
            var timedOut = ex is OperationCanceledException && timeoutCts is { IsCancellationRequested: true };
            var info = timedOut
                ? new ErrorInfo(typeof(TimeoutException).FullName!, $"Attempt {attempt} of step '{Name}' timed out after {policy.AttemptTimeout}.")
                : Host.Limits.Cap(ErrorInfo.FromException(ex)) with { IsTerminal = policy.IsNonRetryable(ex) };
            return (default, new AttemptError(info, (ex as RetryableStepException)?.RetryAfter));
        }
        catch (Exception) when (runToken.IsCancellationRequested)
        {
            return (default, null);
        }
        finally
        {
            if (bodyTask is { IsCompleted: false } && attemptCts is not null)
            {
                await attemptCts.CancelAsync(); // an abandoned body (timed out) must see its token fire
            }
            Host.OnStepAttemptEnded(Name, options.Effect, outcome, stopwatch.Elapsed);
        }
    }

    private sealed record AttemptError(ErrorInfo Info, TimeSpan? RetryAfter)
    {
        public bool IsTerminal => Info.IsTerminal;
    }

    /// <summary>Waits for the person's decision (signal <c>keel.resolve/SEQ/N</c>); the step journals it.</summary>
    private sealed class ResolutionWaiter(StepOperation<T> step, string inboxName) : ISignalWaiter
    {
        private readonly TaskCompletionSource<(StepResolutionData, long)> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _resolved;

        public Task<(StepResolutionData Resolution, long SignalId)> Decision => _decision.Task;

        public int Sequence => step.Sequence;

        public string InboxName => inboxName;

        public bool IsResolved => Volatile.Read(ref _resolved) == 1 || step.IsDone;

        public bool TryResolve() => !step.IsDone && Interlocked.Exchange(ref _resolved, 1) == 0;

        public void Received(StoredSignal signal)
        {
            // At once, on the executor's loop: the step is no longer waiting, so the run is not released meanwhile.
            step.WaitingUntil = null;
            step.AttentionNote = null;
            StepResolutionData resolution;
            try
            {
                resolution = StepResolutionData.Parse(signal.Payload);
            }
            catch (JsonException ex)
            {
                resolution = new StepResolutionData(StepResolutionAction.Fail, null, $"the resolution sent was not readable: {ex.Message}", null, signal.SentAt);
            }
            _decision.TrySetResult((resolution, signal.Id));
        }
    }
}
