namespace Keel;

/// <summary>
/// What a workflow asks a person to approve (<see cref="WorkflowContext.RequestApprovalAsync{TArgs}"/>): the action it
/// proposes, with its arguments, which the approver may edit before approving.
/// </summary>
/// <typeparam name="TArgs">The proposed action's arguments, serialized with System.Text.Json.</typeparam>
public sealed record ApprovalRequest<TArgs>
{
    /// <summary>The approval's durable name in the run (as a step's name): people approve it by this name.</summary>
    public required string Name { get; init; }

    /// <summary>One line for the person deciding.</summary>
    public required string Title { get; init; }

    /// <summary>What the person needs to know to decide.</summary>
    public string? Details { get; init; }

    /// <summary>The action the approval gates (usually the name of the step that runs once approved).</summary>
    public string? Action { get; init; }

    /// <summary>The proposed arguments of the action.</summary>
    public required TArgs Arguments { get; init; }

    /// <summary>Choices offered beyond approve and reject (for example "full refund", "half refund"); empty for none.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>How long to wait for a decision; null to wait as long as it takes. At the deadline the wait ends
    /// <see cref="ApprovalOutcome.Expired"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>How an approval ended.</summary>
public enum ApprovalOutcome
{
    /// <summary>A person approved it.</summary>
    Approved,

    /// <summary>A person rejected it.</summary>
    Rejected,

    /// <summary>Nobody decided before the deadline.</summary>
    Expired,
}

/// <summary>The decision a workflow receives for an approval it requested.</summary>
/// <typeparam name="TArgs">The arguments' type.</typeparam>
public sealed record ApprovalDecision<TArgs>
{
    /// <summary>Approved, rejected or expired.</summary>
    public required ApprovalOutcome Outcome { get; init; }

    /// <summary>True when approved.</summary>
    public bool IsApproved => Outcome == ApprovalOutcome.Approved;

    /// <summary>The arguments to act on: the approver's edited ones if they edited them, otherwise the proposed ones.</summary>
    public required TArgs Arguments { get; init; }

    /// <summary>The arguments the workflow proposed.</summary>
    public required TArgs ProposedArguments { get; init; }

    /// <summary>True when the approver changed the arguments.</summary>
    public bool ArgumentsEdited { get; init; }

    /// <summary>The option chosen, when the request offered options.</summary>
    public string? Option { get; init; }

    /// <summary>Who decided (null when expired).</summary>
    public string? DecidedBy { get; init; }

    /// <summary>Their comment.</summary>
    public string? Comment { get; init; }

    /// <summary>When the decision was made (or the deadline passed).</summary>
    public required DateTimeOffset DecidedAt { get; init; }
}

/// <summary>A person's answer to a pending approval (<see cref="KeelClient.DecideApprovalAsync"/>).</summary>
public sealed record ApprovalResponse
{
    /// <summary>Approve (true) or reject (false).</summary>
    public required bool Approved { get; init; }

    /// <summary>Who decides, for the record.</summary>
    public string? By { get; init; }

    /// <summary>Why, for the record and for the workflow.</summary>
    public string? Comment { get; init; }

    /// <summary>Edited arguments as JSON (approving only): the workflow acts on these instead of the proposed ones.</summary>
    public string? ArgumentsJson { get; init; }

    /// <summary>The option chosen, one of those the request offered.</summary>
    public string? Option { get; init; }

    /// <summary>Which approval, when the run waits for several; null for its oldest pending one.</summary>
    public string? ApprovalName { get; init; }

    /// <summary>Exactly which request (<see cref="PendingApproval.Sequence"/>): a decision meant for one request is refused
    /// once that request is decided, even when the run asks again under the same name. Null for any pending one.</summary>
    public int? Sequence { get; init; }
}
