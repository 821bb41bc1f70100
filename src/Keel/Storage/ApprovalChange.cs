namespace Keel.Storage;

/// <summary>The change an append makes to the run's pending approvals.</summary>
public sealed record ApprovalChange
{
    /// <summary>Approvals the appended entries ask for: listed as pending until closed.</summary>
    public IReadOnlyList<ApprovalRecord>? Opened { get; init; }

    /// <summary>The sequence numbers of approvals the appended entries ended (decided or expired).</summary>
    public IReadOnlyList<int>? Closed { get; init; }
}
