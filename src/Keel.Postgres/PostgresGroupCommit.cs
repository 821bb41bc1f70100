using System.Data;
using System.Threading.Channels;
using Npgsql;

namespace Keel.Postgres;

/// <summary>
/// Group commit: whatever items are queued when the previous batch returns go to the server together, as one round
/// trip and one transaction (one WAL flush) for many runs. The batch's statements must give each item its own outcome
/// (a refused fence is a result, not an error), so one item does not affect the others.
/// </summary>
/// <typeparam name="TItem">What is written (an append, a new run).</typeparam>
/// <typeparam name="TResult">Each item's outcome.</typeparam>
internal sealed class PostgresGroupCommit<TItem, TResult> : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxBatch;
    private readonly Func<NpgsqlConnection, IReadOnlyList<TItem>, Task<TResult[]>> _execute;
    private readonly Func<NpgsqlConnection, Task> _onOpen;
    private readonly Task _loop;
    private NpgsqlConnection? _connection;

    /// <param name="dataSource">Where the batches go: unpooled, since the loop owns its connection (and its session settings).</param>
    /// <param name="maxBatch">Items per batch at most.</param>
    /// <param name="execute">Writes a batch on a connection, in one implicit transaction, and returns the items'
    /// outcomes in their order.</param>
    /// <param name="onOpen">Sets up each connection the loop opens.</param>
    public PostgresGroupCommit(NpgsqlDataSource dataSource, int maxBatch, Func<NpgsqlConnection, IReadOnlyList<TItem>, Task<TResult[]>> execute,
        Func<NpgsqlConnection, Task> onOpen)
    {
        _dataSource = dataSource;
        _maxBatch = maxBatch;
        _execute = execute;
        _onOpen = onOpen;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Batches sent so far (for measurements: items per round trip).</summary>
    public long Batches { get; private set; }

    /// <summary>Queues an item and completes with its outcome once its batch committed.</summary>
    public Task<TResult> EnqueueAsync(TItem item)
    {
        var pending = new Pending(item);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(PostgresWorkflowStore), "The store is closed.");
        }
        return pending.Result.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            try
            {
                var results = await ExecuteAsync([.. batch.Select(p => p.Item)]).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Result.TrySetResult(results[i]);
                }
            }
            catch (PostgresException) when (batch.Count > 1)
            {
                // The server refused a statement, so the whole batch rolled back. One bad item must not fail the
                // others: write them one by one, each with its own outcome. (Only here: after a broken connection the
                // batch may have committed, and sending it again would write twice.)
                foreach (var pending in batch)
                {
                    try
                    {
                        pending.Result.TrySetResult((await ExecuteAsync([pending.Item]).ConfigureAwait(false))[0]);
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

    private async Task<TResult[]> ExecuteAsync(IReadOnlyList<TItem> items)
    {
        Batches++;
        var connection = await ConnectionAsync().ConfigureAwait(false);
        try
        {
            return await _execute(connection, items).ConfigureAwait(false);
        }
        catch
        {
            // A statement that failed part-way through a multi-statement batch can leave the connection out of step
            // with the server (Npgsql then reads a stray DataRow into the next batch: "unexpected backend message").
            // The next batch, and the one-by-one retry, get a fresh connection.
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The loop keeps one connection: its statement is prepared there once (auto-prepare counts uses per connection,
    /// and batches spread over the pool's connections were parsed and planned again nearly every time, ~3 ms each).
    /// A connection whose batch failed is replaced at the next batch.
    /// </summary>
    private async Task<NpgsqlConnection> ConnectionAsync()
    {
        if (_connection is { State: ConnectionState.Open })
        {
            return _connection;
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
        var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        try
        {
            await _onOpen(connection).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return _connection = connection;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Pending(TItem item)
    {
        public TItem Item { get; } = item;

        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
