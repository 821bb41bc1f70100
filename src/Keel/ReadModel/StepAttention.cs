using Keel.Engine;

namespace Keel;

/// <summary>A step's request for a person's decision: why, since when, and which of its requests for attention it is.</summary>
/// <remarks>A person decides it with <see cref="KeelClient.ResolveAsync"/> (<c>keel resolve</c>, <c>POST
/// /api/runs/{id}/resolve</c>): retry the body, complete the step with a result, or fail it.</remarks>
public sealed record StepAttention
{
    /// <summary>Why the step waits (from older journals: their text, as <see cref="AttentionKind.Unspecified"/>).</summary>
    public required AttentionReason Reason { get; init; }

    /// <summary>The step's position.</summary>
    public required int Position { get; init; }

    /// <summary>The step's durable name.</summary>
    public required string Step { get; init; }

    /// <summary>Which request for attention of this step it is, from 1: a decision is addressed to it, so a stale
    /// duplicate of an earlier decision cannot settle it.</summary>
    public required int Number { get; init; }

    /// <summary>Since when the step waits.</summary>
    public required DateTimeOffset Since { get; init; }

    /// <summary>The journal index of the request.</summary>
    public long Index { get; init; }

    /// <summary>The inbox name a decision on this request is sent under.</summary>
    internal string SignalName => StepResolutionData.SignalName(Position, Number);
}
