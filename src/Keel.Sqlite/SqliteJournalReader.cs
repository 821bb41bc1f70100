using System.Runtime.CompilerServices;
using System.Text;
using Keel.Storage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Keel.Sqlite;

/// <summary>
/// Reads a run's journal through SQLite's own API on the connection's handle. A resume reads the whole journal before
/// the first live operation: through <see cref="SqliteDataReader"/>'s typed getters 10,000 entries took 34–46 ms
/// (84 ms on first use in a process), through this 19–25 ms (SQLite's own scan is ≈ 5 ms of it). The entry kind is
/// matched on its UTF-8 bytes, without a string per row.
/// </summary>
internal static class SqliteJournalReader
{
    private const string Sql =
        "SELECT idx, seq, kind, name, attempt, started_at, recorded_at, payload, error, retry_at FROM journal WHERE run_id = ?1 ORDER BY idx;";

    private static readonly (byte[] Name, JournalEntryKind Kind)[] s_kinds =
        [.. Enum.GetValues<JournalEntryKind>().Select(k => (Encoding.UTF8.GetBytes(k.ToString()), k))];

    // Run once per resume over the whole journal: compiled optimized at once rather than tiered up meanwhile.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static List<JournalEntry> Read(SqliteConnection connection, string runId)
    {
        var db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(db, Sql, out var statement), db);
        using (statement)
        {
            Check(raw.sqlite3_bind_text(statement, 1, runId), db);
            var entries = new List<JournalEntry>();
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                entries.Add(new JournalEntry
                {
                    Index = raw.sqlite3_column_int64(statement, 0),
                    Sequence = raw.sqlite3_column_int(statement, 1),
                    Kind = Kind(raw.sqlite3_column_blob(statement, 2)),
                    Name = raw.sqlite3_column_text(statement, 3).utf8_to_string(),
                    Attempt = raw.sqlite3_column_int(statement, 4),
                    StartedAt = Time(statement, 5),
                    RecordedAt = DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(statement, 6)),
                    Payload = Text(statement, 7),
                    Error = Text(statement, 8) is { } error ? StoreJson.ReadError(error) : null,
                    RetryAt = Time(statement, 9),
                });
            }
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc, db);
            }
            return entries;
        }
    }

    private static JournalEntryKind Kind(ReadOnlySpan<byte> name)
    {
        foreach (var (utf8, kind) in s_kinds)
        {
            if (name.SequenceEqual(utf8))
            {
                return kind;
            }
        }
        return Enum.Parse<JournalEntryKind>(Encoding.UTF8.GetString(name)); // not a kind this version knows: its error
    }

    private static string? Text(sqlite3_stmt statement, int column) =>
        raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(statement, column).utf8_to_string();

    private static DateTimeOffset? Time(sqlite3_stmt statement, int column) =>
        raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(statement, column));

    // The same exception Microsoft.Data.Sqlite throws, so the store translates it as for any other read.
    private static void Check(int rc, sqlite3 db) => SqliteException.ThrowExceptionForRC(rc, db);
}
