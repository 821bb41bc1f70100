using System.Text.Json;

namespace Keel;

/// <summary>One durable operation of a run (a step, timer, signal wait, approval or child run), from its journal.</summary>
public sealed record RunOperation
{
    /// <summary>Its position (sequence number) in the run.</summary>
    public required int Position { get; init; }

    /// <summary>What kind of operation it is.</summary>
    public required OperationKind Kind { get; init; }

    /// <summary>Its durable name: the step's, the timer's, the signal's, the approval's, or the child's workflow.</summary>
    public required string Name { get; init; }

    /// <summary>Where it is.</summary>
    public required OperationState State { get; init; }

    /// <summary>When it started, if the journal knows (a step's first attempt, an approval's request, a child's start).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended, once it has an outcome.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>A step's attempts, in order; empty for other operations.</summary>
    public IReadOnlyList<StepAttempt> Attempts { get; init; } = [];

    /// <summary>A step's requests for a person's decision, in order (decided ones too: their decisions are in
    /// <see cref="RunHistory.Decisions"/>); the open one is also <see cref="RunHistory.Attention"/>.</summary>
    public IReadOnlyList<StepAttention> Attentions { get; init; } = [];

    /// <summary>The value it ended with, as JSON: a step's result, a received signal's payload, a child run's result.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>Why it failed, for <see cref="OperationState.Failed"/>.</summary>
    public ErrorInfo? Error { get; init; }

    /// <summary>What it waits for, while it waits (<see cref="OperationState.Waiting"/>, <see cref="OperationState.NeedsAttention"/>).</summary>
    public OperationWait? Wait { get; init; }

    /// <summary>What an approval asked, for <see cref="OperationKind.Approval"/>.</summary>
    public ApprovalRequestInfo? Approval { get; init; }

    /// <summary>The child run's id, for <see cref="OperationKind.ChildRun"/> once it started.</summary>
    public string? ChildRunId { get; init; }

    /// <summary>Signals a signal wait set aside, in order.</summary>
    public IReadOnlyList<RejectedSignal> RejectedSignals { get; init; } = [];

    /// <summary>The journal index of its first entry.</summary>
    public long FirstIndex { get; init; }

    /// <summary>The journal index of its last entry.</summary>
    public long LastIndex { get; init; }
}
