using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>
/// A deterministic chat client for running agents without a network: each answer comes from a script, chosen by the turn
/// (1 + the assistant messages in the conversation), so the same conversation always gets the same answer. Usage is
/// reported (a token per four characters of the prompt, and of the answer), so budgets and sums work offline too.
/// </summary>
/// <param name="script">Answers a turn: given the turn number and the conversation so far, the assistant's message
/// (text, <see cref="FunctionCallContent"/>s, or both).</param>
/// <param name="modelId">The model id the answers carry.</param>
public sealed class ScriptedChatClient(Func<int, IReadOnlyList<ChatMessage>, ChatMessage> script, string modelId = "scripted") : IChatClient
{
    /// <summary>A script of fixed answers, one per turn; past its end, the last one.</summary>
    /// <param name="turns">The answers.</param>
    /// <returns>The client.</returns>
    public static ScriptedChatClient FromTurns(params IReadOnlyList<ChatMessage> turns)
    {
        ArgumentOutOfRangeException.ThrowIfZero(turns.Count);
        return new((turn, _) => turns[Math.Min(turn, turns.Count) - 1]);
    }

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<ChatMessage> conversation = [.. messages];
        var turn = 1 + conversation.Count(m => m.Role == ChatRole.Assistant);
        var answer = script(turn, conversation).Clone();
        answer.Role = ChatRole.Assistant;
        var input = conversation.Sum(m => m.Text.Length + m.Contents.OfType<FunctionResultContent>().Sum(r => r.Result?.ToString()?.Length ?? 0)) / 4 + 1;
        var output = answer.Text.Length / 4 + 1;
        return Task.FromResult(new ChatResponse(answer)
        {
            ModelId = options?.ModelId ?? modelId,
            ResponseId = $"scripted-{turn}",
            FinishReason = answer.Contents.OfType<FunctionCallContent>().Any() ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output },
        });
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
