namespace Keel.Engine;

/// <summary>
/// The per-run deterministic scheduler. Workflow code runs only inside <see cref="RunUntilIdle"/>, one task at a
/// time in FIFO order, so the same deliveries produce the same interleaving on every replay.
/// </summary>
internal sealed class WorkflowScheduler(Action onQueuedOutsidePump) : TaskScheduler
{
    private readonly Queue<Task> _queue = new();
    private readonly Lock _lock = new();

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Starts the workflow's entry point on this scheduler (it runs at the next <see cref="RunUntilIdle"/>).</summary>
    public Task<T> StartAsync<T>(Func<Task<T>> entry) =>
        Task.Factory.StartNew(entry, CancellationToken.None, TaskCreationOptions.None, this).Unwrap();

    /// <summary>Runs queued workflow continuations until none is left: the workflow is blocked on durable operations.</summary>
    public void RunUntilIdle()
    {
        // Workflow awaits must come back to this scheduler, not to a caller's synchronization context.
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            while (TryDequeue(out var task))
            {
                TryExecuteTask(task);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private bool TryDequeue(out Task task)
    {
        lock (_lock)
        {
            return _queue.TryDequeue(out task!);
        }
    }

    protected override void QueueTask(Task task)
    {
        lock (_lock)
        {
            _queue.Enqueue(task);
        }
        onQueuedOutsidePump();
    }

    // Never inline: order must come from the queue alone.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_lock)
        {
            return [.. _queue];
        }
    }
}
