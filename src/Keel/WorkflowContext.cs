using Microsoft.Extensions.Logging;

namespace Keel;

/// <summary>
/// The durable context of one run. Every operation that must survive a crash goes through it.
/// </summary>
/// <remarks>
/// <para>Each durable operation takes the next sequence number when the workflow code calls it; its outcome is
/// committed to the run's journal before the workflow sees it. On resume the code runs again from the top and
/// recorded outcomes are returned without running step bodies again.</para>
/// <para>Not thread-safe: call it only from the workflow's own code, which Keel runs on one deterministic scheduler
/// per run. Step bodies run on the thread pool and must not use the workflow context.</para>
/// </remarks>
public abstract class WorkflowContext
{
    // Set at the workflow's entry, so it flows with the workflow's own async calls (and, deliberately, into code that
    // leaves the run's scheduler, where the thread guard can then say what went wrong), but not into step bodies,
    // which the executor starts from its own execution context.
    private static readonly AsyncLocal<WorkflowContext?> s_current = new();

    /// <summary>
    /// The context of the run whose workflow code is executing, or null outside workflow code (in a step body, on a
    /// thread the code did not start from a workflow, outside any run). Middleware such as Keel.AI's chat client uses it
    /// to make calls made inside a workflow durable and to pass calls made anywhere else through.
    /// </summary>
    /// <remarks>
    /// It flows with the async calls of the workflow, including those that leave the run's scheduler (after
    /// <c>ConfigureAwait(false)</c>, inside <c>Task.Run</c>): a durable operation called there throws an
    /// <see cref="InvalidOperationException"/> that says so, rather than breaking replay silently.
    /// </remarks>
    public static WorkflowContext? Current => s_current.Value;

    /// <summary>Makes <paramref name="context"/> the ambient context of the code that follows in this execution context.</summary>
    private protected static void SetCurrent(WorkflowContext? context) => s_current.Value = context;

    /// <summary>The run's id.</summary>
    public abstract string RunId { get; }

    /// <summary>The durable name of the workflow.</summary>
    public abstract string WorkflowName { get; }

    /// <summary>True while the code is being replayed from the journal (outcomes come from the store).</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>
    /// Replay-safe current time: the time at which the journal entry that last resumed the workflow was recorded
    /// (or the run's creation time). It does not advance while workflow code computes without awaiting.
    /// </summary>
    public abstract DateTimeOffset UtcNow { get; }

    /// <summary>A random generator seeded from the run id: the same sequence on every replay.</summary>
    public abstract Random Random { get; }

    /// <summary>A logger that is silent while the workflow replays, so each message is logged once.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>Fires when the run is cancelled.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>
    /// Tells people what the run is doing now. The status is stored at once (visible through the client and
    /// <c>keel show</c> while a step runs) and kept until the next call; each status also goes into the run's journal
    /// (<see cref="JournalEntryKind.StatusSet"/>, with the run's next write), so its history is kept
    /// (<see cref="RunHistory.Statuses"/>). Calls made while the workflow replays are ignored, as the status they set was
    /// stored when they ran live.
    /// </summary>
    /// <param name="text">A line for people.</param>
    /// <param name="data">Optional detail, serialized with System.Text.Json.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027",
        Justification = "The progress overload is told apart by its argument (SetStatus(text, progress: (3, 8))); data stays optional here, as shipped.")]
    public abstract void SetStatus(string text, object? data = null);

    /// <summary>
    /// Tells people what the run is doing now and how far along it is, for example
    /// <c>SetStatus("checking sources", progress: (3, 8))</c>; otherwise as <see cref="SetStatus(string, object?)"/>.
    /// </summary>
    /// <param name="text">A line for people.</param>
    /// <param name="progress">How many are done, of how many (0 &lt;= done &lt;= total).</param>
    public virtual void SetStatus(string text, (int Done, int Total) progress) => SetStatus(text);

    /// <summary>
    /// Opens a scope whose steps, timers, signal waits and approvals run even after the run was cancelled, and are not
    /// cancelled by it: cleanup and compensation after catching the <see cref="OperationCanceledException"/> of a
    /// cancelled run (which may wait for a person). Only worker shutdown stops them (they resume on recovery). Dispose
    /// the scope to leave it.
    /// </summary>
    /// <returns>The scope.</returns>
    public abstract IDisposable NonCancellable();

    /// <summary>Returns a new GUID that is the same on every replay of this run.</summary>
    /// <returns>A version 4 GUID derived from the run id and the number of GUIDs taken before.</returns>
    public abstract Guid NewGuid();

    /// <summary>
    /// Runs a step: its body executes once per attempt (at least once, retried by its <see cref="RetryPolicy"/>),
    /// and its outcome is journaled exactly once. On replay the recorded result is returned without running the body.
    /// </summary>
    /// <typeparam name="T">The result type, serialized with System.Text.Json.</typeparam>
    /// <param name="name">The step's durable name. Renaming it breaks replay of in-flight runs.</param>
    /// <param name="body">The step body. It receives the attempt number and the earlier failures.</param>
    /// <param name="options">Retry policy and timeout; null for the worker's defaults.</param>
    /// <returns>The step's result.</returns>
    /// <exception cref="StepFailedException">The step failed for good (a terminal error, or attempts exhausted).</exception>
    public abstract Task<T> StepAsync<T>(string name, Func<StepContext, Task<T>> body, StepOptions? options = null);

    /// <summary>Runs a step that returns nothing. See <see cref="StepAsync{T}(string, Func{StepContext, Task{T}}, StepOptions?)"/>.</summary>
    /// <param name="name">The step's durable name.</param>
    /// <param name="body">The step body.</param>
    /// <param name="options">Retry policy and timeout; null for the worker's defaults.</param>
    /// <returns>A task that completes when the step's outcome is journaled.</returns>
    public async Task StepAsync(string name, Func<StepContext, Task> body, StepOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        await StepAsync<Unit>(name, async sc =>
        {
            await body(sc);
            return default;
        }, options);
    }

    /// <summary>
    /// Sleeps durably: the timer survives restarts and fires once. A run that sleeps longer than
    /// <see cref="KeelOptions.ReleaseWaitsLongerThan"/> is released from memory, and any worker resumes it when it is due
    /// (at start-up, if it came due while no worker ran).
    /// </summary>
    /// <param name="duration">How long, from <see cref="UtcNow"/>.</param>
    /// <param name="name">The timer's durable name.</param>
    /// <returns>A task that completes when the timer fired.</returns>
    public Task SleepAsync(TimeSpan duration, string name = "sleep")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return SleepUntilAsync(UtcNow + duration, name);
    }

    /// <summary>Sleeps durably until a point in time. See <see cref="SleepAsync"/>.</summary>
    /// <param name="until">When the timer fires.</param>
    /// <param name="name">The timer's durable name.</param>
    /// <returns>A task that completes when the timer fired.</returns>
    public abstract Task SleepUntilAsync(DateTimeOffset until, string name = "sleep");

    /// <summary>
    /// Waits durably for a signal sent to this run (<see cref="KeelClient.SignalAsync{T}"/>, <c>keel signal</c>). Signals
    /// are kept in the run's inbox whether or not the run is waiting yet; each is delivered once, the oldest of the name
    /// first, and journaled with its payload. A run that waits is released from memory until a signal arrives.
    /// </summary>
    /// <typeparam name="T">The payload type, deserialized with System.Text.Json.</typeparam>
    /// <param name="name">The signal's name (also the wait's durable name).</param>
    /// <param name="timeout">How long to wait, from <see cref="UtcNow"/>; null to wait as long as it takes.</param>
    /// <returns>The payload.</returns>
    /// <exception cref="SignalTimeoutException">The timeout passed first.</exception>
    /// <exception cref="SignalPayloadException">The payload does not fit <typeparamref name="T"/> (the signal is consumed
    /// and kept in the journal).</exception>
    public abstract Task<T> WaitForSignalAsync<T>(string name, TimeSpan? timeout = null);

    /// <summary>
    /// Asks a person to approve an action and waits durably for the decision (released from memory meanwhile). The
    /// request is journaled and listed as pending (<see cref="KeelClient.ListPendingApprovalsAsync"/>, <c>keel pending</c>);
    /// the decision (who, when, comment, the proposed and any edited arguments) is journaled when it arrives.
    /// </summary>
    /// <typeparam name="TArgs">The proposed action's arguments.</typeparam>
    /// <param name="request">What to approve.</param>
    /// <returns>The decision: approved (with the arguments to act on), rejected, or expired at the deadline.</returns>
    public abstract Task<ApprovalDecision<TArgs>> RequestApprovalAsync<TArgs>(ApprovalRequest<TArgs> request);

    /// <summary>
    /// Starts a child run of another workflow and waits durably for its result: the parent is released from memory
    /// while it waits, the child's result or failure is journaled in the parent, and cancelling the parent cancels the
    /// child. The child's id is derived from the parent's id and position unless given, so a resumed parent finds the
    /// same child instead of starting another.
    /// </summary>
    /// <typeparam name="TInput">The child's input type.</typeparam>
    /// <typeparam name="TResult">The child's result type.</typeparam>
    /// <param name="workflowName">The child's workflow (registered with the workers that should run it).</param>
    /// <param name="input">The child's input.</param>
    /// <param name="options">The child's run id and priority.</param>
    /// <param name="timeout">How long to wait for the child, from this call (durable: it counts while the parent is
    /// released); null to wait as long as it takes. When it passes, the child is asked to cancel and the parent gets a
    /// <see cref="ChildRunTimeoutException"/>.</param>
    /// <returns>The child's result.</returns>
    /// <exception cref="ChildRunFailedException">The child ended Failed or Cancelled.</exception>
    /// <exception cref="ChildRunTimeoutException">The child did not finish within <paramref name="timeout"/>.</exception>
    public abstract Task<TResult> RunChildAsync<TInput, TResult>(string workflowName, TInput input, StartWorkflowOptions? options = null, TimeSpan? timeout = null);

    /// <summary>
    /// Declares what the run means to do, in order, so that people (and <see cref="RunHistory.Remaining"/>) can tell what
    /// remains: <c>context.Plan("look up customer", "draft reply", "get approval", "send")</c>. Name each item as the
    /// operation that does it (a step's, approval's, signal's, timer's or child's name): an item is done once an operation
    /// of that name has completed. Optional and revisable: call it again with the plan as it stands now (each distinct plan
    /// is journaled once, with the run's next write; a replay does not record it again). Runs that declare no plan have an
    /// unknown remainder.
    /// </summary>
    /// <param name="steps">The plan's items, in order.</param>
    public abstract void Plan(params string[] steps);

    /// <summary>The version <see cref="GetVersion"/> returns to a run that went past the change before it existed.</summary>
    public const int DefaultVersion = -1;

    /// <summary>
    /// Which version of a change in the workflow code this run follows, so that code can change while runs are in flight.
    /// A run that reaches the call on new ground takes <paramref name="maxSupported"/>, journaled; a replaying run gets
    /// what it took; a run that went past this point before the call existed gets <see cref="DefaultVersion"/>. The check
    /// takes no position: inserting it does not move the operations after it. A version outside the range blocks the run
    /// with a clear reason (deploy code that supports it, then unblock the run). See docs/versioning.md.
    /// </summary>
    /// <param name="changeId">The change's durable id, unique within the workflow (ids starting with <c>keel.</c> are Keel's own).</param>
    /// <param name="minSupported">The oldest version this code still has a path for (<see cref="DefaultVersion"/> for the original code).</param>
    /// <param name="maxSupported">The newest version, taken by runs that reach the call for the first time.</param>
    /// <returns>The version to follow.</returns>
    /// <exception cref="NondeterminismException">The run took a version outside the range (the run is blocked).</exception>
    public abstract int GetVersion(string changeId, int minSupported, int maxSupported);

    /// <summary>
    /// Whether this run follows a patched path: true for runs that reach the call after the patch was deployed, false for
    /// runs that went past it before (<c>GetVersion(changeId, DefaultVersion, 1) == 1</c>). Once no run from before the patch
    /// is in flight, replace the call with <see cref="DeprecatePatch"/>, and later remove it.
    /// </summary>
    /// <param name="changeId">The patch's durable id.</param>
    /// <returns>True to take the new path.</returns>
    public bool Patched(string changeId) => GetVersion(changeId, DefaultVersion, 1) == 1;

    /// <summary>
    /// The old path of a patch is gone: runs record that they follow the patch, and a run from before it (which would need
    /// the old path) is blocked with a clear reason instead of going on wrongly (<c>GetVersion(changeId, 1, 1)</c>).
    /// </summary>
    /// <param name="changeId">The patch's durable id.</param>
    public void DeprecatePatch(string changeId) => GetVersion(changeId, 1, 1);

    /// <summary>Creates a saga: steps that register compensations, run in reverse order on failure or cancellation.</summary>
    /// <returns>The saga.</returns>
    public Saga CreateSaga() => new(this);

    /// <summary>The stored messages the run refers to (Keel.AI's conversations); null outside a run's executor.</summary>
    internal virtual Engine.RunMessages? Messages => null;

    /// <summary>A model chose to call <paramref name="tool"/> (Keel.AI says so before the tool's step): journaled for the
    /// person who reads the run (<see cref="JournalEntryKind.ToolChosen"/>).</summary>
    internal virtual void RecordToolChoice(string tool, string? model, System.Text.Json.JsonElement? arguments)
    {
    }

    /// <summary>
    /// Ends this run and starts a new run of the same workflow with <paramref name="input"/> and an empty journal (a
    /// long-lived agent loop keeps its journal bounded this way). The new run's id is this one's with <c>~N</c> (the
    /// generation); this run completes, linked to it, and the client's waits follow the chain to its end.
    /// </summary>
    /// <typeparam name="TInput">The workflow's input type.</typeparam>
    /// <param name="input">The new run's input.</param>
    /// <returns>Never returns: throw what it returns (<c>throw ctx.ContinueAsNew(next)</c>) so the compiler knows.</returns>
    public abstract Exception ContinueAsNew<TInput>(TInput input);

    /// <summary>The result of a step that returns nothing.</summary>
    private readonly record struct Unit;
}
