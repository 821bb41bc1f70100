using System.Text.Json;

namespace Keel;

/// <summary>What an approval asked a person, as journaled when it was requested.</summary>
public sealed record ApprovalRequestInfo
{
    /// <summary>What the person is asked, in one line.</summary>
    public required string Title { get; init; }

    /// <summary>More detail, if given.</summary>
    public string? Details { get; init; }

    /// <summary>The step the approval gates, if it names one.</summary>
    public string? Action { get; init; }

    /// <summary>The proposed arguments, as JSON.</summary>
    public JsonElement? Arguments { get; init; }

    /// <summary>The options offered, if any.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>When it was asked.</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>When it expires undecided, if it does.</summary>
    public DateTimeOffset? Deadline { get; init; }
}
