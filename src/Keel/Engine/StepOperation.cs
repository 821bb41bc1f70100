using System.Diagnostics;
using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// A step: runs its body live, attempt by attempt, journaling each failure durably before retrying. An AtMostOnce
/// step commits a started record before each attempt's body; one found started without an outcome is not run again
/// but checked, or handed to a person (NeedsAttention). So is a step whose preconditions do not hold.
/// </summary>
internal sealed class StepOperation<T>(int sequence, string name, Func<StepContext, Task<T>> body, RetryPolicy policy,
    StepHistory history, StepOptions options, IReadOnlyList<JournalEntry> journalSoFar) : Operation(sequence, name)
{
    // Continuations run synchronously, on the executor's thread, when it delivers: combinators such as Task.WhenAny
    // then complete in delivery order, and workflow awaits are queued to the run's scheduler. Asynchronous
    // continuations would race on the thread pool and make replay nondeterministic.
    private readonly TaskCompletionSource<T> _tcs = new();
    private readonly List<StepAttemptFailure> _failures = [.. history.Failures];
    private int _attentions = history.AttentionCount;

    public Task<T> Task => _tcs.Task;

    public override string Describe() => $"step '{Name}'";

    public override RecoveryPointData? RecoveryPoint() => new("step", Name, Sequence, _failures.Count + 1);

    public override void DeliverRecorded(JournalEntry entry, RunExecutor executor)
    {
        IsDone = true;
        if (entry.Kind == JournalEntryKind.StepCompleted)
        {
            var value = entry.Payload is null ? default! : KeelJson.Deserialize<T>(entry.Payload, executor.SerializerOptions)!;
            _tcs.TrySetResult(value);
        }
        else
        {
            _tcs.TrySetException(new StepFailedException(Name, entry.Attempt, entry.Error ?? new ErrorInfo("Unknown", "no error recorded")));
        }
    }

    public override void Cancel(CancellationToken token)
    {
        IsDone = true;
        _tcs.TrySetCanceled(token);
    }

    public override void Start(RunExecutor executor)
    {
        IsStarted = true;
        _ = System.Threading.Tasks.Task.Run(() => RunAsync(executor));
    }

    private async Task RunAsync(RunExecutor executor)
    {
        // A cleanup step (a non-cancellable scope) runs on after the run is cancelled; only shutdown stops it.
        var token = IsCleanup ? executor.AbortToken : executor.RunToken;
        try
        {
            if (await SettleBeforeFirstAttemptAsync(executor, token) is { } settled)
            {
                PostResolvedOutcome(executor, settled);
                return;
            }
            await RunAttemptsAsync(executor, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // the run is going away; nothing to record
        }
        catch (Exception ex)
        {
            executor.Fault(ex);
        }
    }

    /// <summary>
    /// What must be settled before the body may run: a resolution journaled before a crash, an attempt whose outcome
    /// is unknown, a precondition. Returns a resolution that completes or fails the step, or null to run attempts.
    /// </summary>
    private async Task<StepResolutionData?> SettleBeforeFirstAttemptAsync(RunExecutor executor, CancellationToken token)
    {
        if (history.PendingResolution is { } pending)
        {
            return pending; // resolved before the process stopped; the outcome entry was not written yet
        }
        if (history.UnknownAttempt is { } unknown)
        {
            var resolution = history.Attention is null && options.CheckUnknownOutcome is not null
                ? await CheckUnknownOutcomeAsync(executor, unknown, token)
                : null;
            resolution ??= await AskPersonAsync(executor, history.Attention, UnknownOutcomeReason(executor, unknown, null), token);
            return Apply(resolution, unknown);
        }
        if (history.Attention is { } attention)
        {
            return Apply(await AskPersonAsync(executor, attention, attention.Payload ?? "", token), null);
        }
        if (options.Requires.Count > 0 && !history.GuardOverridden && _failures.Count == 0)
        {
            var missing = options.Requires.Where(g => !g.Holds(journalSoFar)).Select(g => g.Description).ToList();
            if (missing.Count > 0)
            {
                var reason = $"Precondition not met for step '{Name}': {string.Join("; ", missing)}. Its body did not run. " +
                             $"Resolve it: keel resolve {executor.RunId} --retry (run it anyway) | --complete-with JSON | --fail REASON.";
                return Apply(await AskPersonAsync(executor, null, reason, token), null);
            }
        }
        return null;
    }

    /// <summary>A retry goes on to the next attempt (the unknown one counted as failed); complete and fail settle the step.</summary>
    private StepResolutionData? Apply(StepResolutionData resolution, JournalEntry? unknown)
    {
        AttentionReason = null;
        if (resolution.Action != StepResolutionAction.Retry)
        {
            return resolution;
        }
        if (unknown is not null && !_failures.Any(f => f.Attempt == unknown.Attempt))
        {
            _failures.Add(new StepAttemptFailure(unknown.Attempt, new ErrorInfo("Keel.OutcomeUnknown",
                $"The process stopped while attempt {unknown.Attempt} ran; its outcome is unknown. Retried on the decision of {resolution.By ?? "someone"}" +
                (resolution.Reason is { } why ? $": {why}" : ".")), unknown.StartedAt ?? unknown.RecordedAt, resolution.At, null));
        }
        return null;
    }

    private string UnknownOutcomeReason(RunExecutor executor, JournalEntry unknown, string? checkNote) =>
        $"Outcome unknown: the process stopped while '{Name}' was running (attempt {unknown.Attempt}, started {unknown.StartedAt ?? unknown.RecordedAt:u}); " +
        $"its body is not run again on its own.{(checkNote is null ? "" : $" The outcome check said: {checkNote}.")} " +
        $"Resolve it: keel resolve {executor.RunId} --retry | --complete-with JSON | --fail REASON.";

    /// <summary>Runs the step's outcome check; returns its resolution (journaled), or null when it could not tell.</summary>
    private async Task<StepResolutionData?> CheckUnknownOutcomeAsync(RunExecutor executor, JournalEntry unknown, CancellationToken token)
    {
        var context = NewContext(executor, unknown.Attempt, token);
        UnknownOutcomeCheck check;
        executor.BodyStarted();
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
            executor.BodyFinished();
        }
        StepResolutionData resolution;
        switch (check.Kind)
        {
            case UnknownOutcomeKind.Happened:
                string result;
                try
                {
                    result = KeelJson.Serialize((T?)check.Result, executor.SerializerOptions);
                }
                catch (Exception ex) when (ex is InvalidCastException or NotSupportedException or JsonException)
                {
                    return await AskPersonAsync(executor, null, UnknownOutcomeReason(executor, unknown,
                        $"the effect happened, but its result is not a {typeof(T).Name}: {ex.Message}"), token);
                }
                resolution = new StepResolutionData(StepResolutionAction.Complete, result, check.Note, "outcome check", executor.Now);
                break;
            case UnknownOutcomeKind.DidNotHappen:
                resolution = new StepResolutionData(StepResolutionAction.Retry, null, check.Note, "outcome check", executor.Now);
                break;
            default:
                return await AskPersonAsync(executor, null, UnknownOutcomeReason(executor, unknown, check.Note), token);
        }
        await executor.AppendInternalAsync(ResolvedEntry(executor, resolution), token);
        return resolution;
    }

    /// <summary>
    /// Hands the step to a person: journals why (once), waits for <c>keel resolve</c> (the run is released as
    /// NeedsAttention meanwhile) and journals their decision.
    /// </summary>
    private async Task<StepResolutionData> AskPersonAsync(RunExecutor executor, JournalEntry? recorded, string reason, CancellationToken token)
    {
        if (recorded is null)
        {
            await executor.AppendInternalAsync(new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.StepNeedsAttention, Name = Name, RecordedAt = executor.Now, Payload = reason,
            }, token);
            _attentions++;
        }
        // The waiter is registered before the step counts as waiting: a release must name the signal it waits for.
        var waiter = new ResolutionWaiter(this, StepResolutionData.SignalName(Sequence, _attentions));
        executor.AddSignalWaiter(waiter);
        AttentionReason = reason;
        WaitingUntil = DateTimeOffset.MaxValue; // nothing to do until a person decides: the run may be released
        executor.Post(InboxItem.Wake);
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
        await executor.AppendInternalAsync(ResolvedEntry(executor, decision.Resolution), token, decision.SignalId);
        return decision.Resolution;
    }

    private JournalEntry ResolvedEntry(RunExecutor executor, StepResolutionData resolution) => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.StepResolved, Name = Name, RecordedAt = executor.Now, Payload = resolution.ToJson(),
    };

    /// <summary>Journals and delivers the outcome a resolution gave the step.</summary>
    private void PostResolvedOutcome(RunExecutor executor, StepResolutionData resolution)
    {
        var attempt = _failures.Count + 1;
        if (resolution.Action == StepResolutionAction.Complete)
        {
            try
            {
                var value = resolution.Result is null ? default! : KeelJson.Deserialize<T>(resolution.Result, executor.SerializerOptions)!;
                var completed = new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.StepCompleted, Name = Name, Attempt = attempt, RecordedAt = executor.Now,
                    Payload = resolution.Result ?? "null",
                };
                executor.Post(new InboxItem(InboxItemKind.Outcome, this, completed, () => Deliver(value)));
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
        var failed = new JournalEntry
        {
            Sequence = Sequence, Kind = JournalEntryKind.StepFailed, Name = Name, Attempt = attempt, RecordedAt = executor.Now, Error = error,
        };
        var exception = new StepFailedException(Name, attempt, error);
        executor.Post(new InboxItem(InboxItemKind.Outcome, this, failed, () => Fail(exception)));
    }

    private async Task RunAttemptsAsync(RunExecutor executor, CancellationToken token)
    {
        var attempt = _failures.Count + 1;
        if (_failures.Count > 0 && _failures[^1].RetryAt is { } due)
        {
            await WaitUntilAsync(executor, due, token); // durable backoff: resumes the recorded schedule
        }
        while (!executor.IsDraining)
        {
            // Counted as in flight until its outcome is posted or journaled, so a drain waits for it.
            executor.BodyStarted();
            DateTimeOffset retryAt;
            try
            {
                var next = await RunAndRecordAttemptAsync(executor, attempt, token);
                if (next is null)
                {
                    return;
                }
                retryAt = next.Value;
            }
            finally
            {
                executor.BodyFinished();
            }
            await WaitUntilAsync(executor, retryAt, token);
            attempt++;
        }
    }

    private async Task WaitUntilAsync(RunExecutor executor, DateTimeOffset due, CancellationToken token)
    {
        WaitingUntil = due;
        executor.Post(InboxItem.Wake); // the executor may release the run from memory until it is due
        try
        {
            await executor.DelayUntilAsync(due, token);
        }
        finally
        {
            WaitingUntil = null;
        }
    }

    /// <summary>Runs one attempt and records its outcome; returns when the next attempt is due, or null when done.</summary>
    private async Task<DateTimeOffset?> RunAndRecordAttemptAsync(RunExecutor executor, int attempt, CancellationToken token)
    {
        await executor.WaitForSuspectsAsync(token);
        await executor.StepSlots.WaitAsync(token); // the run's limit on bodies executing at once
        AttemptError? error;
        T? result;
        DateTimeOffset startedAt;
        try
        {
            if (!executor.MayStartWork())
            {
                return null; // the lease may have lapsed: another worker may run this step; this one starts nothing
            }
            startedAt = executor.Now;
            if (options.Effect == StepEffect.AtMostOnce)
            {
                // Committed before the body runs: after a crash, the journal tells that this attempt may have acted.
                await executor.AppendInternalAsync(new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.StepStarted, Name = Name, Attempt = attempt, RecordedAt = startedAt, StartedAt = startedAt,
                }, token);
            }
            (result, error) = await RunOneAttemptAsync(executor, attempt, token);
        }
        finally
        {
            executor.StepSlots.Release();
        }
        if (token.IsCancellationRequested)
        {
            return null; // cancelled or shutting down: the outcome is not this step's to record
        }
        if (error is null)
        {
            string payload;
            try
            {
                payload = KeelJson.Serialize(result, executor.SerializerOptions);
                PayloadLimits.Check(payload, executor.Limits.MaxResultBytes, nameof(PayloadLimits.MaxResultBytes), (Name, executor.RunId),
                    static s => $"result of step '{s.Name}' of run '{s.RunId}'");
            }
            catch (Exception ex) when (ex is NotSupportedException or JsonException)
            {
                error = new AttemptError(new ErrorInfo(ex.GetType().FullName!, $"The result of step '{Name}' cannot be serialized: {ex.Message}") { IsTerminal = true }, null);
                payload = "";
            }
            catch (PayloadTooLargeException ex)
            {
                // Not retried: the next attempt's result would be as large.
                error = new AttemptError(new ErrorInfo(ex.GetType().FullName!, ex.Message) { IsTerminal = true }, null);
                payload = "";
            }
            if (error is null)
            {
                var completed = new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.StepCompleted, Name = Name, Attempt = attempt,
                    StartedAt = startedAt, RecordedAt = executor.Now, Payload = payload,
                };
                executor.PostFromBody(new InboxItem(InboxItemKind.Outcome, this, completed, () => Deliver(result!)));
                return null;
            }
        }

        if (error.IsTerminal || attempt >= policy.MaxAttempts)
        {
            var failed = new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.StepFailed, Name = Name, Attempt = attempt,
                StartedAt = startedAt, RecordedAt = executor.Now, Error = error.Info,
            };
            var exception = new StepFailedException(Name, attempt, error.Info);
            executor.PostFromBody(new InboxItem(InboxItemKind.Outcome, this, failed, () => Fail(exception)));
            return null;
        }

        var now = executor.Now;
        var retryAt = now + (error.RetryAfter ?? policy.DelayAfter(attempt));
        var failure = new JournalEntry
        {
            Sequence = Sequence, Kind = JournalEntryKind.StepAttemptFailed, Name = Name, Attempt = attempt,
            StartedAt = startedAt, RecordedAt = now, Error = error.Info, RetryAt = retryAt,
        };
        await executor.AppendInternalAsync(failure, token);
        _failures.Add(new StepAttemptFailure(attempt, error.Info, startedAt, now, retryAt));
        executor.OnStepRetrying(this, attempt, error.Info, retryAt);
        return retryAt;
    }

    private StepContext NewContext(RunExecutor executor, int attempt, CancellationToken token) =>
        new(executor.RunId, Name, Sequence, attempt, _failures.Count == 0 ? [] : [.. _failures], token, options.Effect, options.IdempotencyKey);

    private async Task<(T? Result, AttemptError? Error)> RunOneAttemptAsync(RunExecutor executor, int attempt, CancellationToken runToken)
    {
        // With a timeout, the attempt's token fires on the run's token or, measured on the worker's TimeProvider, on
        // the timeout. Without one (the common case) the body gets the run's token and nothing is allocated.
        using var timeoutCts = policy.AttemptTimeout is { } timeout ? new CancellationTokenSource(timeout, executor.TimeProvider) : null;
        using var attemptCts = timeoutCts is null ? null : CancellationTokenSource.CreateLinkedTokenSource(runToken, timeoutCts.Token);
        var context = NewContext(executor, attempt, attemptCts?.Token ?? runToken);
        var stopwatch = Stopwatch.StartNew();
        using var activity = executor.StartStepActivity(this, attempt);
        Task<T>? bodyTask = null;
        try
        {
            executor.StepStarting?.Invoke(context);
            bodyTask = body(context);
            // One clock decides a timeout: the attempt token. A body that ignores it is abandoned when it fires.
            var result = attemptCts is null ? await bodyTask : await bodyTask.WaitAsync(attemptCts.Token);
            return (result, null);
        }
        catch (Exception ex) when (!runToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            // A body's own TimeoutException (an upstream timing out) is an ordinary failure, not the attempt timeout.
            var timedOut = ex is OperationCanceledException && timeoutCts is { IsCancellationRequested: true };
            var info = timedOut
                ? new ErrorInfo(typeof(TimeoutException).FullName!, $"Attempt {attempt} of step '{Name}' timed out after {policy.AttemptTimeout}.")
                : executor.Limits.Cap(ErrorInfo.FromException(ex)) with { IsTerminal = policy.IsNonRetryable(ex) };
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
            KeelTelemetry.StepDuration.Record(stopwatch.Elapsed.TotalSeconds);
        }
    }

    private void Deliver(T result)
    {
        IsDone = true;
        _tcs.TrySetResult(result);
    }

    private void Fail(Exception exception)
    {
        IsDone = true;
        _tcs.TrySetException(exception);
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

        public void Received(StoredSignal signal, RunExecutor executor)
        {
            // At once, on the executor's loop: the step is no longer waiting, so the run is not released meanwhile.
            step.WaitingUntil = null;
            step.AttentionReason = null;
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
