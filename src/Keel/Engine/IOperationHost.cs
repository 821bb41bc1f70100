using System.Diagnostics;
using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// What an operation may use of the run that executes it (<see cref="RunExecutor"/>): the clock, the serializer, tokens,
/// the step slots, and a way to propose outcomes and records. Not the store: everything an operation journals goes
/// through the executor's queue and its one fenced writer, in the same batches as the outcomes.
/// </summary>
internal interface IOperationHost
{
    string RunId { get; }

    /// <summary>Now, in whole milliseconds (what the store keeps).</summary>
    DateTimeOffset Now { get; }

    TimeProvider TimeProvider { get; }

    JsonSerializerOptions SerializerOptions { get; }

    /// <summary>The largest values the run may store.</summary>
    PayloadLimits Limits { get; }

    /// <summary>The stored messages the run refers to (loaded before its replay), and the way its step bodies store more.</summary>
    RunMessages Messages { get; }

    /// <summary>Fires when the run is cancelled or the executor stops.</summary>
    CancellationToken RunToken { get; }

    /// <summary>Fires only when the executor stops (shutdown, lost lease).</summary>
    CancellationToken AbortToken { get; }

    /// <summary>The run's limit on step bodies executing at once.</summary>
    SemaphoreSlim StepSlots { get; }

    /// <summary>True while no new work may start (shutdown, pause, a lease that may have lapsed).</summary>
    bool IsDraining { get; }

    /// <summary>Whether new work may start now (see <see cref="RunExecutor.MayStartWork"/>).</summary>
    bool MayStartWork();

    /// <summary>Before a step body starts: waits while the worker runs another run alone as a suspect.</summary>
    Task WaitForSuspectsAsync(CancellationToken cancellationToken);

    /// <summary>The worker's hook called before each step body.</summary>
    Action<StepContext>? StepStarting { get; }

    /// <summary>A step body (or a check, or a child's creation) is in flight: a drain waits for it.</summary>
    void BodyStarted();

    void BodyFinished();

    /// <summary>Queues an item for the executor's loop.</summary>
    void Post(InboxItem item);

    /// <summary>Queues an item from a step body's own thread, which the loop may continue on.</summary>
    void PostFromBody(InboxItem item);

    /// <summary>Wakes the loop: the operation's state changed (it waits now, or runs again).</summary>
    void Wake();

    /// <summary>
    /// Journals an entry that is not delivered (an attempt failed or started, a person asked or deciding), with the
    /// next batch, optionally consuming the signal that brought it in the same transaction. Completes once committed;
    /// fails as the append did (the lease lost) or is cancelled when the executor stops first.
    /// </summary>
    Task RecordAsync(JournalEntry entry, CancellationToken cancellationToken, long? consumedSignal = null);

    /// <summary>Registers a wait for a signal (the loop adds it) and looks for a match.</summary>
    void AddSignalWaiter(ISignalWaiter waiter);

    /// <summary>Sleeps until a wall-clock time on the worker's time provider.</summary>
    Task DelayUntilAsync(DateTimeOffset due, CancellationToken cancellationToken);

    /// <summary>Something that must not happen did: the executor stops and the run is recovered.</summary>
    void Fault(Exception exception);

    void OnStepRetrying(string step, int attempt, ErrorInfo error, DateTimeOffset retryAt);

    Activity? StartStepActivity(string step, int sequence, int attempt);

    /// <summary>A step attempt ended (<paramref name="outcome"/>: completed, failed, cancelled), for the metrics.</summary>
    void OnStepAttemptEnded(string step, StepEffect effect, string outcome, TimeSpan elapsed);

    /// <summary>Creates a child run (idempotent by its id) and tells this process's worker there is work.</summary>
    Task<CreateRunResult> CreateChildAsync(NewRun child, CancellationToken cancellationToken);

    /// <summary>Asks a child run to cancel; best effort, repeated on the parent's replay.</summary>
    void CancelChild(string childRunId, string why);
}
