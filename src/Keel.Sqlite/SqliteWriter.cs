using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Keel.Sqlite;

/// <summary>
/// The single writer of a store: every write of every run goes through one connection, and whatever is queued when a
/// transaction starts is committed with it (group commit). One fsync then serves many appends.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly int _maxBatch;
    private readonly Func<SqliteException, StorageException> _translate;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SqliteRawStatement> _statements = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private volatile bool _catchUp;

    public SqliteWriter(SqliteConnection connection, int maxBatch, Func<SqliteException, StorageException> translate)
    {
        _connection = connection;
        _maxBatch = maxBatch;
        _translate = translate;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Commits so far (for benchmarks: commits per step).</summary>
    public long Commits { get; private set; }

    /// <summary>
    /// Asks the writer to checkpoint the frames committed since the store's background checkpoint began, on its own
    /// connection before its next transaction. Under a steady stream of commits the background checkpoint never sees the
    /// whole WAL copied (the writer keeps adding frames while it runs), and SQLite writes from the start of the WAL again
    /// only when a write begins with nothing left to copy; without this the WAL grew for as long as commits kept coming,
    /// and every commit that grows the file pays for a file-size change in its fsync (on ext4 a journal commit: a durable
    /// commit of one page took 529-574 us appended, 256-283 us written over the WAL's earlier frames).
    /// </summary>
    public void RequestCatchUp() => _catchUp = true;

    public Task<T> ExecuteAsync<T>(Func<WriteContext, T> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var operation = new WriteOperation<T>(write);
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The store is closed.");
        }
        return operation.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<WriteOperation>(_maxBatch);
        var context = new WriteContext(this);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            if (_catchUp)
            {
                CatchUp();
            }
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }
            CommitBatch(batch, context);
        }
    }

    private void CommitBatch(List<WriteOperation> batch, WriteContext context)
    {
        // Fast path: the whole batch in one transaction. Only if one operation throws is the batch run again with a
        // savepoint per operation, so the failing one fails alone (savepoints cost more than the appends themselves).
        if (!TryCommit(batch, context, isolate: false))
        {
            TryCommit(batch, context, isolate: true);
        }
    }

    /// <summary>Commits the batch and settles every operation; returns false (having settled none) when an
    /// operation failed without isolation and the batch should be run again isolated.</summary>
    private bool TryCommit(List<WriteOperation> batch, WriteContext context, bool isolate)
    {
        SqliteTransaction? transaction = null;
        try
        {
            transaction = _connection.BeginTransaction(deferred: false);
            context.Transaction = transaction;
            foreach (var operation in batch)
            {
                if (!isolate)
                {
                    operation.Execute(context);
                    continue;
                }
                context.Command("SAVEPOINT op;").ExecuteNonQuery();
                try
                {
                    operation.Execute(context);
                    context.Command("RELEASE op;").ExecuteNonQuery();
                }
                catch (Exception ex) when (!IsFatal(ex))
                {
                    context.Command("ROLLBACK TO op;").ExecuteNonQuery();
                    context.Command("RELEASE op;").ExecuteNonQuery();
                    operation.Fail(ex is SqliteException sx ? _translate(sx) : ex);
                }
            }
            transaction.Commit();
            Commits++;
            foreach (var operation in batch)
            {
                operation.Succeed();
            }
            return true;
        }
        catch (Exception ex) when (!isolate && batch.Count > 1 && !IsFatal(ex))
        {
            Rollback(transaction);
            return false;
        }
        catch (Exception ex)
        {
            Rollback(transaction);
            var error = ex is SqliteException sx ? _translate(sx) : ex;
            foreach (var operation in batch)
            {
                operation.Fail(error);
            }
            return true;
        }
        finally
        {
            transaction?.Dispose();
            context.Transaction = null;
        }
    }

    /// <summary>Copies the WAL's last frames into the database (few: the background checkpoint did the rest), so that the
    /// next transaction finds nothing left to copy and writes from the start of the WAL.</summary>
    private void CatchUp()
    {
        _catchUp = false;
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // Busy (another process checkpoints or holds a lock): the next background checkpoint asks again.
        }
    }

    // Errors of the database itself (busy, locked, I/O, corrupt, full, not a database) fail the whole batch.
    private static bool IsFatal(Exception ex) => ex is SqliteException { SqliteErrorCode: 5 or 6 or 10 or 11 or 13 or 26 };

    private static void Rollback(SqliteTransaction? transaction)
    {
        try
        {
            transaction?.Rollback();
        }
        catch (SqliteException)
        {
            // the transaction is gone already
        }
    }

    internal SqliteCommand Command(string sql, SqliteTransaction transaction)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        command.Transaction = transaction;
        return command; // parameters stay: callers set every one of them (see Set)
    }

    internal SqliteRawStatement Statement(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = new SqliteRawStatement(_connection, sql);
            _statements[sql] = statement;
        }
        return statement;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        foreach (var statement in _statements.Values)
        {
            statement.Dispose();
        }
        foreach (var command in _commands.Values)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private abstract class WriteOperation
    {
        public abstract void Execute(WriteContext context);

        public abstract void Succeed();

        public abstract void Fail(Exception exception);
    }

    private sealed class WriteOperation<T>(Func<WriteContext, T> write) : WriteOperation
    {
        private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private bool _failed;

        public Task<T> Task => _tcs.Task;

        public override void Execute(WriteContext context) => _result = write(context);

        public override void Succeed()
        {
            if (!_failed)
            {
                _tcs.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception exception)
        {
            _failed = true;
            _tcs.TrySetException(exception);
        }
    }
}

internal static class SqliteParameters
{
    /// <summary>Sets a parameter of a cached command, creating it on first use.</summary>
    public static void Set(this SqliteParameterCollection parameters, string name, object? value)
    {
        var index = parameters.IndexOf(name);
        if (index >= 0)
        {
            parameters[index].Value = value ?? DBNull.Value;
        }
        else
        {
            parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }
}

/// <summary>What a write operation gets: prepared commands on the writer's connection inside the batch's transaction.</summary>
internal sealed class WriteContext(SqliteWriter writer)
{
    public SqliteTransaction? Transaction { get; set; }

    public SqliteCommand Command(string sql) => writer.Command(sql, Transaction!);

    /// <summary>A statement bound by position, for the hottest paths (see <see cref="SqliteRawStatement"/>).</summary>
    public SqliteRawStatement Statement(string sql) => writer.Statement(sql);
}
