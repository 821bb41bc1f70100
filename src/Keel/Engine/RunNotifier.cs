namespace Keel.Engine;

/// <summary>
/// In-process wake-ups: a client in the same process tells the worker about new work and waiters about finished
/// runs at once, instead of at the next poll. Other processes are found by polling the store.
/// </summary>
internal sealed class RunNotifier
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _workAvailable = NewSignal();
    private TaskCompletionSource _runChanged = NewSignal();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _cancelRequests = new();

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

    /// <summary>A task that completes at the next <see cref="NotifyRunChanged"/>.</summary>
    public Task RunChanged
    {
        get
        {
            lock (_lock)
            {
                return _runChanged.Task;
            }
        }
    }

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

    public void NotifyRunChanged()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            signal = _runChanged;
            _runChanged = NewSignal();
        }
        signal.TrySetResult();
    }

    public void NotifyCancelRequested(string runId)
    {
        _cancelRequests.Enqueue(runId);
        NotifyWork();
    }

    public bool TryTakeCancelRequest(out string runId) => _cancelRequests.TryDequeue(out runId!);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
