using System.Threading.Channels;
using Npgsql;

namespace Keel.Postgres;

/// <summary>
/// Group commit for appends: whatever appends are queued when the previous batch returns go to the server as one
/// <see cref="NpgsqlBatch"/>: one round trip and one transaction (one WAL flush) for many runs' steps. Each append is
/// its own fenced statement, so one run's refused append does not affect the others in the batch.
/// </summary>
internal sealed class PostgresAppendBatcher : IAsyncDisposable
{
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxBatch;
    private readonly Task _loop;

    public PostgresAppendBatcher(NpgsqlDataSource dataSource, int maxBatch)
    {
        _dataSource = dataSource;
        _maxBatch = maxBatch;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Batches sent so far (for measurements: appends per round trip).</summary>
    public long Batches { get; private set; }

    /// <summary>Queues a fenced append statement (it returns a row when the fence held) and completes when it committed.</summary>
    /// <param name="command">Makes the statement; called again when the append is retried on its own (a command
    /// that took part in a failed batch cannot be sent again).</param>
    /// <param name="runId">The run appended to: statements go out in run id order (see ExecuteAsync).</param>
    public Task<bool> AppendAsync(string runId, Func<NpgsqlBatchCommand> command)
    {
        var pending = new PendingAppend(runId, command);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(PostgresWorkflowStore), "The store is closed.");
        }
        return pending.Result.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<PendingAppend>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            try
            {
                var held = await ExecuteAsync(batch).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Result.TrySetResult(held[i]);
                }
            }
            catch (PostgresException) when (batch.Count > 1)
            {
                // The server refused a statement, so the whole batch rolled back. One bad append must not fail the
                // others: run them one by one, each with its own outcome. (Only here: after a broken connection the
                // batch may have committed, and sending it again would append twice.)
                foreach (var pending in batch)
                {
                    try
                    {
                        pending.Result.TrySetResult((await ExecuteAsync([pending]).ConfigureAwait(false))[0]);
                    }
                    catch (Exception single)
                    {
                        pending.Result.TrySetException(single);
                    }
                }
            }
            catch (Exception ex)
            {
                foreach (var pending in batch)
                {
                    pending.Result.TrySetException(ex);
                }
            }
        }
    }

    private async Task<bool[]> ExecuteAsync(List<PendingAppend> appends)
    {
        Batches++;
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        // A batch without an explicit transaction runs as one implicit transaction: all of it commits, or none.
        using var batch = new NpgsqlBatch(connection);
        // Rows are locked in run id order, as lease renewal locks them: two transactions never wait on each other in
        // a cycle (they did, and deadlocked, when batches locked in arrival order). The sort is stable, so two appends
        // of one run keep their order.
        var order = Enumerable.Range(0, appends.Count).OrderBy(i => appends[i].RunId, StringComparer.Ordinal).ToArray();
        foreach (var i in order)
        {
            batch.BatchCommands.Add(appends[i].Command());
        }
        var held = new bool[appends.Count];
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            foreach (var i in order)
            {
                held[i] = await reader.ReadAsync().ConfigureAwait(false);
                await reader.NextResultAsync().ConfigureAwait(false);
            }
        }
        return held;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private sealed class PendingAppend(string runId, Func<NpgsqlBatchCommand> command)
    {
        public string RunId { get; } = runId;

        public Func<NpgsqlBatchCommand> Command { get; } = command;

        public TaskCompletionSource<bool> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
