using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using OpenAI;

namespace Keel.AI;

/// <summary>Chat clients for Keel.AI: any OpenAI-compatible endpoint, configured or from the environment.</summary>
public static class KeelChatClients
{
    /// <summary>The environment variable with the endpoint's base address (e.g. <c>https://api.openai.com/v1</c>).</summary>
    public const string EndpointVariable = "KEEL_OPENAI_ENDPOINT";

    /// <summary>The environment variable with the API key.</summary>
    public const string ApiKeyVariable = "KEEL_OPENAI_API_KEY";

    /// <summary>The environment variable with the model id.</summary>
    public const string ModelVariable = "KEEL_OPENAI_MODEL";

    /// <summary>
    /// A chat client for an OpenAI-compatible chat-completions endpoint, through the official OpenAI client and
    /// Microsoft.Extensions.AI.OpenAI. The OpenAI client's own retries are off: inside a workflow Keel retries durably
    /// (its retry schedule survives crashes and is journaled), and outside one the caller decides.
    /// </summary>
    /// <param name="endpoint">The base address.</param>
    /// <param name="apiKey">The API key.</param>
    /// <param name="model">The model id.</param>
    /// <param name="networkTimeout">How long one HTTP request may take; null for 5 minutes (a workflow bounds attempts with its retry policy).</param>
    /// <returns>The client (not yet durable: build it with <c>UseKeel()</c>).</returns>
    public static IChatClient CreateOpenAI(Uri endpoint, string apiKey, string model, TimeSpan? networkTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var options = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = networkTimeout ?? TimeSpan.FromMinutes(5),
        };
        return new OpenAIClient(new ApiKeyCredential(apiKey), options).GetChatClient(model).AsIChatClient();
    }

    /// <summary>
    /// The OpenAI-compatible endpoint configured in <paramref name="configuration"/> (<c>Keel:OpenAI:Endpoint</c>,
    /// <c>:ApiKey</c>, <c>:Model</c>) or the environment (<see cref="EndpointVariable"/>, <see cref="ApiKeyVariable"/>,
    /// <see cref="ModelVariable"/>); null when no endpoint is configured.
    /// </summary>
    /// <param name="configuration">Configuration to read first; null for the environment only.</param>
    /// <returns>The client, or null.</returns>
    public static IChatClient? FromConfiguration(IConfiguration? configuration = null)
    {
        var endpoint = Read(configuration, "Keel:OpenAI:Endpoint", EndpointVariable);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return null;
        }
        var key = Read(configuration, "Keel:OpenAI:ApiKey", ApiKeyVariable);
        var model = Read(configuration, "Keel:OpenAI:Model", ModelVariable);
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new InvalidOperationException($"An OpenAI endpoint is configured ({endpoint}) but no model: set {ModelVariable} or Keel:OpenAI:Model.");
        }
        return CreateOpenAI(new Uri(endpoint), string.IsNullOrEmpty(key) ? "unused" : key, model);
    }

    /// <summary>The configured endpoint (<see cref="FromConfiguration"/>), or <paramref name="offline"/> when there is none:
    /// a <see cref="ScriptedChatClient"/> runs everything without a network.</summary>
    /// <param name="offline">The client to use without a configured endpoint.</param>
    /// <param name="configuration">Configuration to read first; null for the environment only.</param>
    /// <returns>The client.</returns>
    public static IChatClient FromConfigurationOr(Func<IChatClient> offline, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(offline);
        return FromConfiguration(configuration) ?? offline();
    }

    private static string? Read(IConfiguration? configuration, string key, string variable) =>
        configuration?[key] is { Length: > 0 } value ? value : Environment.GetEnvironmentVariable(variable);
}
