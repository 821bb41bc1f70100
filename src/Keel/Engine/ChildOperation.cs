using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>How a child run ended, as it tells its parent (signal <c>keel.child/SEQ</c>).</summary>
internal sealed record ChildOutcomeData(RunStatus Status, string? Result, ErrorInfo? Error, string? Reason);

/// <summary>
/// <see cref="WorkflowContext.RunChildAsync{TInput, TResult}"/>: creates the child run (idempotent by its id), journals
/// that it started, then waits durably for the child to tell its outcome (the parent is released meanwhile).
/// </summary>
internal sealed class ChildOperation<TResult>(IOperationHost host, int sequence, string childRunId, string workflowName, string input, int priority,
    string parentRunId, bool alreadyStarted, TimeSpan? timeout, DateTimeOffset? deadline)
    : InboxWaitOperation(host, sequence, workflowName, ParentNotice.SignalNameFor(sequence), deadline)
{
    private const string TimedOut = "Keel.ChildTimedOut";

    private readonly TaskCompletionSource<TResult> _tcs = new();

    public Task<TResult> Task => _tcs.Task;

    public string ChildRunId => childRunId;

    public override string Describe() => $"child run '{childRunId}' of workflow '{Name}'";

    public override void Start()
    {
        if (alreadyStarted)
        {
            base.Start();
            return;
        }
        IsStarted = true;
        _ = System.Threading.Tasks.Task.Run(CreateChildAsync);
    }

    private async Task CreateChildAsync()
    {
        var token = Host.RunToken;
        Host.BodyStarted();
        try
        {
            var created = await Host.CreateChildAsync(new NewRun
            {
                RunId = childRunId, WorkflowName = Name, Input = input, Priority = priority, CreatedAt = Host.Now,
                ParentRunId = parentRunId, ParentSequence = Sequence,
                TraceParent = KeelTelemetry.CurrentTraceParent(), // the parent's span: the child's work shows in its trace
            }, token);
            if (!string.Equals(created.Run.WorkflowName, Name, StringComparison.Ordinal) || created.Run.ParentRunId != parentRunId)
            {
                var error = new ErrorInfo(typeof(WorkflowAlreadyExistsException).FullName!,
                    $"Run id '{childRunId}' is taken by a run of workflow '{created.Run.WorkflowName}' that is not this run's child; give the child another id.");
                TryResolve();
                PostOutcome(new JournalEntry
                {
                    Sequence = Sequence, Kind = JournalEntryKind.ChildFailed, Name = Name, RecordedAt = Host.Now, Error = error,
                    Payload = KeelJson.Serialize(new ChildOutcomeData(RunStatus.Failed, null, error, null), KeelJson.Default),
                });
                return;
            }
            Host.Post(new InboxItem(InboxItemKind.Record, Entry: new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.ChildStarted, Name = Name, RecordedAt = Host.Now, Payload = KeelJson.Serialize(childRunId, KeelJson.Default),
            }));
            base.Start();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // the run is going away; the child (if created) is found again by its id on recovery
        }
        catch (Exception ex)
        {
            Host.Fault(ex);
        }
        finally
        {
            Host.BodyFinished();
        }
    }

    /// <summary>The parent was cancelled: so is the child (idempotent, also when the cancellation is replayed).</summary>
    public override void Cancel(CancellationToken token)
    {
        base.Cancel(token);
        Host.CancelChild(childRunId, "was cancelled");
    }

    protected override JournalEntry ReceivedEntry(StoredSignal signal)
    {
        var outcome = ReadPayload<ChildOutcomeData>(signal); // a malformed outcome is treated as a failure below
        return outcome is { Status: RunStatus.Completed }
            ? new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.ChildCompleted, Name = Name, RecordedAt = Host.Now, StartedAt = signal.SentAt,
                Payload = outcome.Result ?? "null",
            }
            : new JournalEntry
            {
                Sequence = Sequence, Kind = JournalEntryKind.ChildFailed, Name = Name, RecordedAt = Host.Now, StartedAt = signal.SentAt,
                Payload = KeelJson.Serialize(outcome ?? new ChildOutcomeData(RunStatus.Failed, null, null, "unreadable outcome"), KeelJson.Default),
                Error = outcome?.Error ?? new ErrorInfo("Keel.ChildEnded", $"Child run '{childRunId}' ended {outcome?.Status.ToString() ?? "with an unreadable outcome"}" +
                                                                           (outcome?.Reason is { } why ? $": {why}" : ".")),
            };
    }

    protected override JournalEntry ExpiredEntry() => new()
    {
        Sequence = Sequence, Kind = JournalEntryKind.ChildFailed, Name = Name, RecordedAt = Host.Now, StartedAt = Deadline,
        Payload = KeelJson.Serialize(new ChildOutcomeData(RunStatus.Running, null, null, $"the parent stopped waiting after {timeout}"), KeelJson.Default),
        Error = new ErrorInfo(TimedOut, $"Child run '{childRunId}' did not finish within {timeout}; it was asked to cancel."),
    };

    protected override void CompleteWait(JournalEntry entry)
    {
        if (entry.Error?.Type == TimedOut)
        {
            // Also when replayed: a crash may have come between the timeout's entry and the child's cancellation.
            Host.CancelChild(childRunId, $"stopped waiting for it after {timeout}");
            _tcs.TrySetException(new ChildRunTimeoutException(childRunId, timeout ?? TimeSpan.Zero));
            return;
        }
        if (entry.Kind == JournalEntryKind.ChildCompleted)
        {
            try
            {
                _tcs.TrySetResult(entry.Payload is null ? default! : KeelJson.Deserialize<TResult>(entry.Payload, Host.SerializerOptions)!);
            }
            catch (JsonException ex)
            {
                _tcs.TrySetException(new ChildRunFailedException(childRunId, RunStatus.Completed,
                    new ErrorInfo(ex.GetType().FullName!, $"Its result is not a {typeof(TResult).Name}: {ex.Message}")));
            }
            return;
        }
        var status = RunStatus.Failed;
        try
        {
            status = KeelJson.Deserialize<ChildOutcomeData>(entry.Payload ?? "null", KeelJson.Default)?.Status ?? RunStatus.Failed;
        }
        catch (JsonException)
        {
            // an unreadable outcome counts as failed
        }
        _tcs.TrySetException(new ChildRunFailedException(childRunId, status, entry.Error));
    }

    protected override void CancelCore(CancellationToken token) => _tcs.TrySetCanceled(token);
}
