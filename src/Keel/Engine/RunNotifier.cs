namespace Keel.Engine;

/// <summary>
/// In-process wake-ups: a client in the same process tells the worker about new work and waiters about finished
/// runs at once, instead of at the next poll. Other processes are found by polling the store.
/// </summary>
internal sealed class RunNotifier
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _workAvailable = NewSignal();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _runChanged = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _cancelRequests = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _pauseRequests = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _signalled = new();

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

    public void NotifyCancelRequested(string runId)
    {
        if (Worker?.TryDeliver(RunRequest.Cancel, runId) == true)
        {
            return;
        }
        _cancelRequests.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakeCancelRequest(out string runId) => _cancelRequests.TryDequeue(out runId!);

    public void NotifyPauseRequested(string runId)
    {
        if (Worker?.TryDeliver(RunRequest.Pause, runId) == true)
        {
            return;
        }
        _pauseRequests.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakePauseRequest(out string runId) => _pauseRequests.TryDequeue(out runId!);

    /// <summary>A signal was stored for a run a worker holds (perhaps this process's).</summary>
    public void NotifySignalled(string runId)
    {
        if (Worker?.TryDeliver(RunRequest.Signals, runId) == true)
        {
            return;
        }
        _signalled.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakeSignalled(out string runId) => _signalled.TryDequeue(out runId!);

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
