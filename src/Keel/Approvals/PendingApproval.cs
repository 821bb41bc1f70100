using System.Text.Json;

namespace Keel;

/// <summary>An approval that waits for a person's decision.</summary>
public sealed record PendingApproval
{
    /// <summary>The run that asked.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's workflow.</summary>
    public required string WorkflowName { get; init; }

    /// <summary>The approval's position in the run's journal.</summary>
    public required int Sequence { get; init; }

    /// <summary>The approval's durable name.</summary>
    public required string Name { get; init; }

    /// <summary>One line for the person deciding.</summary>
    public required string Title { get; init; }

    /// <summary>What the person needs to know.</summary>
    public string? Details { get; init; }

    /// <summary>The action the approval gates.</summary>
    public string? Action { get; init; }

    /// <summary>The proposed arguments as JSON.</summary>
    public required string ArgumentsJson { get; init; }

    /// <summary>Choices offered beyond approve and reject.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>When it was asked for.</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>When the wait expires, if ever.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>How long it has waited at <paramref name="now"/>.</summary>
    /// <param name="now">The time to measure to.</param>
    /// <returns>The wait so far.</returns>
    public TimeSpan WaitingFor(DateTimeOffset now) => now - RequestedAt;

    /// <summary>Builds the record from what the store kept (for store implementations).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="workflowName">Its workflow.</param>
    /// <param name="sequence">The approval's sequence number.</param>
    /// <param name="name">Its name.</param>
    /// <param name="requestJson">The request as Keel stored it.</param>
    /// <param name="requestedAt">When it was asked for.</param>
    /// <returns>The pending approval.</returns>
    public static PendingApproval FromStored(string runId, string workflowName, int sequence, string name, string requestJson, DateTimeOffset requestedAt)
    {
        var request = KeelJson.Deserialize<Engine.ApprovalRequestData>(requestJson, KeelJson.Default)
                      ?? throw new JsonException($"The stored approval request of run '{runId}' at position {sequence} is empty.");
        return new PendingApproval
        {
            RunId = runId, WorkflowName = workflowName, Sequence = sequence, Name = name, Title = request.Title,
            Details = request.Details, Action = request.Action, ArgumentsJson = request.Arguments.GetRawText(),
            Options = request.Options ?? [], RequestedAt = requestedAt, Deadline = request.Deadline,
        };
    }
}
