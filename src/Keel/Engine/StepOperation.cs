using System.Diagnostics;
using System.Text.Json;

namespace Keel.Engine;

/// <summary>A step: runs its body live, attempt by attempt, journaling each failure durably before retrying.</summary>
internal sealed class StepOperation<T>(int sequence, string name, Func<StepContext, Task<T>> body, RetryPolicy policy,
    IReadOnlyList<StepAttemptFailure> recordedFailures) : Operation(sequence, name)
{
    // Continuations run synchronously, on the executor's thread, when it delivers: combinators such as Task.WhenAny
    // then complete in delivery order, and workflow awaits are queued to the run's scheduler. Asynchronous
    // continuations would race on the thread pool and make replay nondeterministic.
    private readonly TaskCompletionSource<T> _tcs = new();
    private readonly List<StepAttemptFailure> _failures = [.. recordedFailures];

    public Task<T> Task => _tcs.Task;

    public override string Describe() => $"step '{Name}'";

    public override void DeliverRecorded(JournalEntry entry, RunExecutor executor)
    {
        IsDone = true;
        if (entry.Kind == JournalEntryKind.StepCompleted)
        {
            var value = entry.Payload is null ? default! : JsonSerializer.Deserialize<T>(entry.Payload, executor.SerializerOptions)!;
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
        _ = System.Threading.Tasks.Task.Run(() => RunAttemptsAsync(executor));
    }

    private async Task RunAttemptsAsync(RunExecutor executor)
    {
        var token = executor.RunToken;
        try
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
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // the run is going away; nothing to record
        }
        catch (Exception ex)
        {
            executor.Fault(ex);
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
        var startedAt = executor.Now;
        var (result, error) = await RunOneAttemptAsync(executor, attempt, token);
        if (token.IsCancellationRequested)
        {
            return null; // cancelled or shutting down: the outcome is not this step's to record
        }
        if (error is null)
        {
            string payload;
            try
            {
                payload = JsonSerializer.Serialize(result, executor.SerializerOptions);
            }
            catch (Exception ex) when (ex is NotSupportedException or JsonException)
            {
                error = new AttemptError(new ErrorInfo(ex.GetType().FullName!, $"The result of step '{Name}' cannot be serialized: {ex.Message}") { IsTerminal = true }, null);
                payload = "";
            }
            if (error is null)
            {
                var completed = new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.StepCompleted, Name = Name, Attempt = attempt,
                    StartedAt = startedAt, RecordedAt = executor.Now, Payload = payload,
                };
                executor.Post(new InboxItem(InboxItemKind.Outcome, this, completed, () => Deliver(result!)));
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
            executor.Post(new InboxItem(InboxItemKind.Outcome, this, failed, () => Fail(exception)));
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

    private async Task<(T? Result, AttemptError? Error)> RunOneAttemptAsync(RunExecutor executor, int attempt, CancellationToken runToken)
    {
        // With a timeout, the attempt's token fires on the run's token or, measured on the worker's TimeProvider, on
        // the timeout. Without one (the common case) the body gets the run's token and nothing is allocated.
        using var timeoutCts = policy.AttemptTimeout is { } timeout ? new CancellationTokenSource(timeout, executor.TimeProvider) : null;
        using var attemptCts = timeoutCts is null ? null : CancellationTokenSource.CreateLinkedTokenSource(runToken, timeoutCts.Token);
        var context = new StepContext(executor.RunId, Name, Sequence, attempt, _failures.Count == 0 ? [] : [.. _failures],
            attemptCts?.Token ?? runToken);
        var stopwatch = Stopwatch.StartNew();
        using var activity = executor.StartStepActivity(this, attempt);
        Task<T>? bodyTask = null;
        try
        {
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
                : ErrorInfo.FromException(ex) with { IsTerminal = policy.IsNonRetryable(ex) };
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
}
