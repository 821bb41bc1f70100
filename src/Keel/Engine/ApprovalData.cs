using System.Text.Json;

namespace Keel.Engine;

/// <summary>An approval request as journaled (<see cref="JournalEntryKind.ApprovalRequested"/>) and listed as pending.</summary>
internal sealed record ApprovalRequestData(string Title, string? Details, string? Action, JsonElement Arguments,
    IReadOnlyList<string>? Options, DateTimeOffset? Deadline);

/// <summary>
/// A decision as sent to the run and journaled (<see cref="JournalEntryKind.ApprovalDecided"/>): who, when, why, and the
/// original and edited arguments, so the journal alone tells what was approved.
/// </summary>
internal sealed record ApprovalDecisionData(ApprovalOutcome Outcome, string? By, string? Comment, string? Option,
    JsonElement? EditedArguments, DateTimeOffset DecidedAt)
{
    public JsonElement? ProposedArguments { get; init; }

    /// <summary>The inbox name the decision for the approval at a position is sent under (reserved: users cannot send it).</summary>
    public static string SignalName(int sequence) => $"keel.approval/{sequence}";
}
