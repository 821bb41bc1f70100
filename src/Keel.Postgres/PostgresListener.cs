using Npgsql;

namespace Keel.Postgres;

/// <summary>
/// One connection per store that LISTENs on the store's channel and completes <see cref="WorkAvailable"/> at each
/// NOTIFY. Started by the first read of <see cref="WorkAvailable"/> (a client-only store never opens it); reconnects
/// after a broken connection, and wakes waiters then too, since notifications may have been missed meanwhile.
/// </summary>
internal sealed class PostgresListener(NpgsqlDataSource dataSource, string channel) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _signalledRuns = new();
    private TaskCompletionSource _signal = NewSignal();
    private Task? _loop;
    private Action<string>? _onFinished;

    public Task WorkAvailable
    {
        get
        {
            lock (_lock)
            {
                _loop ??= Task.Run(LoopAsync);
                return _signal.Task;
            }
        }
    }

    /// <summary>Completes once the first LISTEN is in place (for tests).</summary>
    public TaskCompletionSource Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Takes a run that received a signal (NOTIFY "signal:&lt;run id&gt;"), for the worker that may hold it.</summary>
    public bool TryTakeSignalledRun(out string runId) => _signalledRuns.TryDequeue(out runId!);

    /// <summary>Calls <paramref name="onFinished"/> for every "finished:RUN" notification from now on (and starts listening).</summary>
    public void WatchFinishedRuns(Action<string> onFinished)
    {
        lock (_lock)
        {
            _onFinished += onFinished;
            _loop ??= Task.Run(LoopAsync);
        }
    }

    private void OnNotification(string payload)
    {
        if (payload.StartsWith("finished:", StringComparison.Ordinal))
        {
            // For waiters only: a run that ended elsewhere frees no capacity here, so the claim loop is not woken.
            Volatile.Read(ref _onFinished)?.Invoke(payload["finished:".Length..]);
            return;
        }
        // Bounded: a worker that does not drain the queue still learns of signals at its next lease renewal.
        if (payload.StartsWith("signal:", StringComparison.Ordinal) && _signalledRuns.Count < 10_000)
        {
            _signalledRuns.Enqueue(payload["signal:".Length..]);
        }
        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            signal = _signal;
            _signal = NewSignal();
        }
        signal.TrySetResult();
    }

    private async Task LoopAsync()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var connection = await dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                await using var connectionScope = connection.ConfigureAwait(false);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                using (var listen = new NpgsqlCommand($"LISTEN \"{channel}\";", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                }
                Listening.TrySetResult();
                Signal();
                while (true)
                {
                    await connection.WaitAsync(stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                // The server went away or restarted: workers poll meanwhile; try again shortly.
                Signal();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Task? loop;
        lock (_lock)
        {
            loop = _loop;
        }
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
        _stop.Dispose();
        Signal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
