using System.Text.Json;

namespace Keel.AI;

/// <summary>The input of a run of an agent registered with <see cref="KeelAgents.AddAgent"/>: one turn of a conversation.</summary>
public sealed record AgentTurn
{
    /// <summary>The user's message.</summary>
    public required string Message { get; init; }

    /// <summary>The conversation so far (the previous turn's <see cref="AgentTurnResult.Session"/>: a reference to the
    /// session stored in Keel's store, or the agent's serialized <c>AgentSession</c> itself); null to start one.</summary>
    public JsonElement? Session { get; init; }
}

/// <summary>The result of one turn of an agent's conversation.</summary>
public sealed record AgentTurnResult
{
    /// <summary>The agent's answer.</summary>
    public required string Text { get; init; }

    /// <summary>The conversation after this turn: give it to the next turn to continue it. It names the session stored in
    /// Keel's store (<c>{"keel.messages": "hash"}</c>: a snapshot whose messages are stored once each), so passing it on costs
    /// a few bytes however long the conversation; the stored session stays while a turn that refers to it does.</summary>
    public required JsonElement Session { get; init; }

    /// <summary>Tokens this turn's model calls used.</summary>
    public required ModelUsage Usage { get; init; }
}
