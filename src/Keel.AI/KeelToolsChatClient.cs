using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>
/// Sits above the function-invoking client: inside a workflow it hands it the request's tools as <see cref="DurableTool"/>s,
/// so every call the model makes is a journaled step. Outside a workflow it passes through.
/// </summary>
internal sealed class KeelToolsChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, Durable(options), cancellationToken);

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, Durable(options), cancellationToken);

    internal static ChatOptions? Durable(ChatOptions? options)
    {
        if (WorkflowContext.Current is null || options?.Tools is not { Count: > 0 } tools || !tools.Any(t => t is AIFunction and not DurableTool))
        {
            return options;
        }
        var copy = options.Clone();
        copy.Tools = [.. tools.Select(t => t is AIFunction f and not DurableTool ? new DurableTool(f) : t)];
        return copy;
    }
}
