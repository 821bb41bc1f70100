using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>What a durable agent loop (<see cref="KeelAgentLoop.RunAgentLoopAsync"/>) works on.</summary>
public sealed record AgentLoopOptions
{
    /// <summary>The system instructions.</summary>
    public required string Instructions { get; init; }

    /// <summary>The goal, as the user's first message.</summary>
    public required string Goal { get; init; }

    /// <summary>The tools the model may call; each call is a journaled step with the tool's effect kind (and approval).</summary>
    public IReadOnlyList<AIFunction> Tools { get; init; } = [];

    /// <summary>The most model calls the loop makes. At least 1.</summary>
    public int MaxTurns { get; init; } = 20;

    /// <summary>Options for every model call (model id, temperature); its tools are replaced by <see cref="Tools"/>.</summary>
    public ChatOptions? ChatOptions { get; init; }

    /// <summary>How model calls are journaled; null for the defaults.</summary>
    public KeelChatOptions? Settings { get; init; }
}

/// <summary>How a durable agent loop ended.</summary>
/// <param name="Text">The model's last answer.</param>
/// <param name="Turns">Model calls made.</param>
/// <param name="ReachedMaxTurns">True when the loop stopped at <see cref="AgentLoopOptions.MaxTurns"/> with tool calls still asked for.</param>
/// <param name="Messages">The whole conversation.</param>
/// <param name="Usage">Tokens the loop's model calls used.</param>
public sealed record AgentLoopResult(string Text, int Turns, bool ReachedMaxTurns, IReadOnlyList<ChatMessage> Messages, ModelUsage Usage);
