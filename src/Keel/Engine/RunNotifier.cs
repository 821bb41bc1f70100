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

    public void NotifyCancelRequested(string runId)
    {
        _cancelRequests.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakeCancelRequest(out string runId) => _cancelRequests.TryDequeue(out runId!);

    public void NotifyPauseRequested(string runId)
    {
        _pauseRequests.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakePauseRequest(out string runId) => _pauseRequests.TryDequeue(out runId!);

    /// <summary>A signal was stored for a run a worker holds (perhaps this process's).</summary>
    public void NotifySignalled(string runId)
    {
        _signalled.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakeSignalled(out string runId) => _signalled.TryDequeue(out runId!);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
