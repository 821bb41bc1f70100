namespace Keel.Storage;

/// <summary>An approval the run asked for, journaled with the entry that asked (see <see cref="ApprovalChange.Opened"/>).</summary>
public sealed record ApprovalRecord
{
    /// <summary>The sequence number of the operation that waits for the decision.</summary>
    public required int Sequence { get; init; }

    /// <summary>The approval's durable name.</summary>
    public required string Name { get; init; }

    /// <summary>The request as JSON (title, details, action, arguments, options, deadline).</summary>
    public required string Request { get; init; }

    /// <summary>When it was asked for.</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>When the wait ends as expired, if ever.</summary>
    public DateTimeOffset? Deadline { get; init; }
}
