using System.Globalization;

namespace Keel.Storage;

/// <summary>
/// The keyset cursor of <see cref="IWorkflowStore.ListRunsAsync"/>, shared by the stores so a cursor means the same
/// everywhere: the last run's creation time (Unix ms) and id. Stores read one row more than the page to know whether
/// another page follows.
/// </summary>
public static class RunPageCursor
{
    /// <summary>Reads a cursor; null for none.</summary>
    /// <param name="cursor">A cursor from <see cref="RunPage.NextCursor"/>, or null.</param>
    /// <returns>The position after which the next page starts, or null for the first page.</returns>
    /// <exception cref="ArgumentException">The text is not a cursor this method wrote.</exception>
    public static (long CreatedAtMs, string RunId)? Decode(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }
        var colon = cursor.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(cursor.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var at))
        {
            throw new ArgumentException($"'{cursor}' is not a cursor returned by ListRunsAsync.", nameof(cursor));
        }
        return (at, cursor[(colon + 1)..]);
    }

    /// <summary>Makes the page from up to <paramref name="limit"/> + 1 rows read newest first.</summary>
    /// <param name="rows">The rows read (at most one more than the page); trimmed in place.</param>
    /// <param name="limit">The page size.</param>
    /// <returns>The page, with a cursor when another page follows.</returns>
    public static RunPage ToPage(List<RunInfo> rows, int limit)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count <= limit)
        {
            return new RunPage(rows, null);
        }
        rows.RemoveRange(limit, rows.Count - limit);
        var last = rows[^1];
        return new RunPage(rows, string.Create(CultureInfo.InvariantCulture, $"{last.CreatedAt.ToUnixTimeMilliseconds()}:{last.RunId}"));
    }
}
