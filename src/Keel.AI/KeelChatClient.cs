using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>
/// A chat client middleware that makes model calls made inside a Keel workflow durable: each
/// <see cref="GetResponseAsync"/> and <see cref="GetStreamingResponseAsync"/> is a journaled step (the full
/// <see cref="ChatResponse"/>, or the streamed updates), retried by policy, and on replay answered from the journal
/// without calling the model. Outside a workflow (no <see cref="WorkflowContext.Current"/>, including inside step bodies)
/// calls pass through unchanged.
/// </summary>
/// <remarks>
/// <para>Build it with <see cref="KeelChatClientBuilderExtensions.UseKeel(ChatClientBuilder, KeelChatOptions?, Action{FunctionInvokingChatClient}?)"/>,
/// which also makes tool calls durable. Thread-safe: one instance serves every run.</para>
/// <para>A streamed call inside a workflow yields its updates once the whole stream is journaled (a stream cut mid-way is
/// retried as a whole), so the workflow never acts on updates of an attempt that did not complete.</para>
/// <para>The caller's <see cref="CancellationToken"/> is not used inside a workflow: a durable call ends with the run's
/// cancellation, its attempt timeout, or the worker's shutdown.</para>
/// </remarks>
public sealed class KeelChatClient : DelegatingChatClient
{
    private readonly KeelChatOptions _options;

    /// <summary>Creates the middleware.</summary>
    /// <param name="innerClient">The client that calls the model.</param>
    /// <param name="options">How calls are journaled; null for <see cref="KeelChatOptions.Default"/>.</param>
    public KeelChatClient(IChatClient innerClient, KeelChatOptions? options = null) : base(innerClient)
    {
        _options = options ?? KeelChatOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.AttemptsPerModel, 1, nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.StepName, nameof(options));
    }

    /// <summary>How calls are journaled.</summary>
    public KeelChatOptions Options => _options;

    /// <inheritdoc />
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return WorkflowContext.Current is { } context
            ? ModelCalls.GetResponseAsync(context, InnerClient, messages, options, _options)
            : base.GetResponseAsync(messages, options, cancellationToken);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return WorkflowContext.Current is { } context
            ? DurableStreamAsync(context, messages, options, cancellationToken)
            : base.GetStreamingResponseAsync(messages, options, cancellationToken);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> DurableStreamAsync(WorkflowContext context, IEnumerable<ChatMessage> messages, ChatOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var updates = await ModelCalls.GetStreamingResponseAsync(context, InnerClient, messages, options, _options).ConfigureAwait(false);
        foreach (var update in updates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return update;
        }
    }
}
