using System.Collections.Concurrent;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// Reads runs for waiting clients in batches: the reads queued while one batch is at the store go together in the next
/// (one <see cref="IWorkflowStore.GetRunsAsync"/>), so a thousand waiters whose runs end together cost a handful of
/// round trips, not a thousand. No loop runs while nothing is queued (a client holds no task when idle).
/// </summary>
internal sealed class RunReadBatcher(IWorkflowStore store)
{
    private const int MaxBatch = 500;
    private readonly ConcurrentQueue<(string RunId, TaskCompletionSource<RunInfo?> Result)> _queue = new();
    private int _draining;

    /// <summary>Reads the run (null when there is none) in the next batch.</summary>
    public Task<RunInfo?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        var result = new TaskCompletionSource<RunInfo?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Enqueue((runId, result));
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }
        return result.Task.WaitAsync(cancellationToken);
    }

    private async Task DrainAsync()
    {
        var batch = new List<(string RunId, TaskCompletionSource<RunInfo?> Result)>();
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }
            if (batch.Count == 0)
            {
                Volatile.Write(ref _draining, 0);
                // A read queued after the last dequeue but before the flag was cleared found it still set: take it.
                if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
                {
                    continue;
                }
                return;
            }
            try
            {
                var runs = await store.GetRunsAsync([.. batch.Select(b => b.RunId).Distinct(StringComparer.Ordinal)], CancellationToken.None).ConfigureAwait(false);
                var byId = runs.ToDictionary(r => r.RunId, StringComparer.Ordinal);
                foreach (var (runId, result) in batch)
                {
                    result.TrySetResult(byId.GetValueOrDefault(runId));
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, result) in batch)
                {
                    result.TrySetException(ex);
                }
            }
        }
    }
}
