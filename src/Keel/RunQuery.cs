namespace Keel;

/// <summary>A filter and page of runs, newest first.</summary>
public sealed record RunQuery
{
    /// <summary>Only runs in one of these states; empty for all.</summary>
    public IReadOnlyList<RunStatus> Statuses { get; init; } = [];

    /// <summary>Only runs of this workflow.</summary>
    public string? WorkflowName { get; init; }

    /// <summary>Only runs created at or after this time.</summary>
    public DateTimeOffset? CreatedAfter { get; init; }

    /// <summary>Only runs created before this time.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>Only runs that wait for a person: for an approval nobody has decided yet, or, needing attention or
    /// blocked, for someone to decide or fix what stopped them.</summary>
    public bool WaitingForPerson { get; init; }

    /// <summary>Page size, 1 to 1000.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="RunPage.NextCursor"/> of the previous page; null for the first.</summary>
    public string? Cursor { get; init; }
}

/// <summary>A page of runs.</summary>
/// <param name="Runs">The runs, newest first.</param>
/// <param name="NextCursor">Pass as <see cref="RunQuery.Cursor"/> for the next page; null when this is the last.</param>
public sealed record RunPage(IReadOnlyList<RunInfo> Runs, string? NextCursor);
