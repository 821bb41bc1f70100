namespace Keel.Engine;

/// <summary>
/// In-process wake-ups: a client in the same process tells the worker about new work and waiters about finished
/// runs at once, instead of at the next poll, and hands run requests (cancel, pause, signals) to the worker. Other
/// processes are found by polling the store.
/// </summary>
internal sealed class RunNotifier
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _workAvailable = NewSignal();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _runChanged = new(StringComparer.Ordinal);

    /// <summary>A task that completes at the next <see cref="NotifyWork"/>.</summary>
    public Task WorkAvailable
    {
        get
        {
            lock (_lock)
            {
                return _workAvailable.Task;
            }
        }
    }

    /// <summary>A task that completes at the next change of this run made in this process.</summary>
    public Task WhenRunChangesAsync(string runId) => _runChanged.GetOrAdd(runId, _ => NewSignal()).Task;

    public void NotifyWork()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            signal = _workAvailable;
            _workAvailable = NewSignal();
        }
        signal.TrySetResult();
    }

    /// <summary>Wakes the waiters of this run only: a thousand waiters are not all woken by each run that ends.</summary>
    public void NotifyRunChanged(string runId)
    {
        if (_runChanged.TryRemove(runId, out var signal))
        {
            signal.TrySetResult();
        }
    }

    /// <summary>The worker of this process, which takes run requests at once (null in a client-only process).</summary>
    public IRunRequestSink? Worker { get; set; }

    /// <summary>
    /// A client in this process asked a run to cancel or pause, or stored a signal for it: the worker here hands it to
    /// the run's executor at once, on this thread. Nothing is queued: a run no worker of this process holds learns of
    /// it from the store (the flag or the inbox is seen at its next claim, lease renewal or NOTIFY).
    /// </summary>
    public void NotifyRunRequest(RunRequest request, string runId)
    {
        if (Worker?.TryDeliver(request, runId) != true)
        {
            NotifyWork();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>What a client in the same process asks of a run a worker may hold.</summary>
internal enum RunRequest
{
    Cancel,
    Pause,
    Signals,
}

/// <summary>A worker that takes run requests from clients in its process at once, on the caller's thread.</summary>
internal interface IRunRequestSink
{
    /// <summary>Hands the request to the run's executor; false when this worker does not hold the run (the store's flag,
    /// seen at the next claim or lease renewal, covers it then).</summary>
    bool TryDeliver(RunRequest request, string runId);
}
