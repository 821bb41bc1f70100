using Keel.AI;
using Microsoft.Extensions.AI;

namespace Keel;

/// <summary>Makes a chat client pipeline durable inside Keel workflows.</summary>
public static class KeelChatClientBuilderExtensions
{
    /// <summary>
    /// Adds Keel's durability to the pipeline: inside a workflow, every model call is a journaled step (replayed without
    /// calling the model), and every tool the model calls is a journaled step with its effect kind, after a Keel approval
    /// for tools wrapped in <see cref="ApprovalRequiredAIFunction"/>. Outside a workflow the pipeline behaves as without it.
    /// </summary>
    /// <remarks>
    /// It includes function invocation: a standard <see cref="FunctionInvokingChatClient"/> between a layer that makes
    /// the request's tools durable and a <see cref="KeelChatClient"/> that journals each model call. Do not add
    /// <c>UseFunctionInvocation</c> as well; configure it here. Tools in
    /// <see cref="FunctionInvokingChatClient.AdditionalTools"/> are not made durable: pass tools in
    /// <see cref="ChatOptions.Tools"/>. Put layers that should see every live call (logging, telemetry) after this one.
    /// </remarks>
    /// <param name="builder">The pipeline.</param>
    /// <param name="options">How model calls are journaled; null for the defaults.</param>
    /// <param name="configureFunctionInvocation">Configures the function-invoking client (maximum iterations, errors).</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseKeel(this ChatClientBuilder builder, KeelChatOptions? options = null,
        Action<FunctionInvokingChatClient>? configureFunctionInvocation = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .Use(inner => new KeelToolsChatClient(inner))
            .UseFunctionInvocation(configure: configureFunctionInvocation)
            .Use(inner => new KeelChatClient(inner, options));
    }
}
