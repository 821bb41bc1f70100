using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Keel.Sqlite;

/// <summary>
/// A statement of the writer's hottest paths (the plain append's lease check and the journal insert: once or twice per
/// step), prepared once on the writer's connection and bound by position through SQLite's API. Through
/// <see cref="SqliteCommand"/> each execution looked every parameter up by name and inferred its type again: W2's
/// profile had 8 % of all CPU in binding. Errors surface as the same <see cref="SqliteException"/>.
/// </summary>
internal sealed class SqliteRawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public SqliteRawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out _statement), _db);
    }

    public SqliteRawStatement Bind(int position, string? value)
    {
        Check(value is null ? raw.sqlite3_bind_null(_statement, position) : raw.sqlite3_bind_text(_statement, position, value));
        return this;
    }

    public SqliteRawStatement Bind(int position, long? value)
    {
        Check(value is { } v ? raw.sqlite3_bind_int64(_statement, position, v) : raw.sqlite3_bind_null(_statement, position));
        return this;
    }

    /// <summary>Runs the statement; the first column of its first row, or null when there is none.</summary>
    public long? ExecuteScalar()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_type(_statement, 0) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(_statement, 0);
            }
            Check(rc == raw.SQLITE_DONE ? raw.SQLITE_OK : rc);
            return null;
        }
        finally
        {
            raw.sqlite3_reset(_statement); // a statement left running would keep the transaction from committing
        }
    }

    public void ExecuteNonQuery()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            Check(rc == raw.SQLITE_DONE ? raw.SQLITE_OK : rc);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private void Check(int rc) => SqliteException.ThrowExceptionForRC(rc, _db);

    public void Dispose() => _statement.Dispose();
}
