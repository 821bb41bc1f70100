using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>Durable model calls, structured output and token budgets from workflow code.</summary>
public static class KeelAIWorkflowContextExtensions
{
    /// <summary>
    /// Calls the model as one journaled step: replay returns the journaled response without calling it. A client built
    /// with <see cref="KeelChatClientBuilderExtensions.UseKeel"/> is used as it is (its tool calls are durable steps too);
    /// any other client's call, tool loop included, is one step.
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="client">The chat client.</param>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="settings">How the call is journaled (for a client without Keel's middleware); null for the defaults.</param>
    /// <returns>The response.</returns>
    public static Task<ChatResponse> ChatAsync(this WorkflowContext context, IChatClient client, IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, KeelChatOptions? settings = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(messages);
        return client.GetService<KeelChatClient>() is not null
            ? client.GetResponseAsync(messages, options)
            : ModelCalls.GetResponseAsync(context, client, messages, options, settings ?? KeelChatOptions.Default);
    }

    /// <summary>Calls the model with one user message as one journaled step. See <see cref="ChatAsync(WorkflowContext, IChatClient, IEnumerable{ChatMessage}, ChatOptions?, KeelChatOptions?)"/>.</summary>
    /// <param name="context">The run.</param>
    /// <param name="client">The chat client.</param>
    /// <param name="prompt">The user's message.</param>
    /// <param name="options">The request's options.</param>
    /// <returns>The response.</returns>
    public static Task<ChatResponse> ChatAsync(this WorkflowContext context, IChatClient client, string prompt, ChatOptions? options = null) =>
        ChatAsync(context, client, [new ChatMessage(ChatRole.User, prompt)], options);

    /// <summary>
    /// Asks the model for structured output as one journaled step: the answer must parse as <typeparamref name="T"/> (and
    /// pass <paramref name="validate"/>); one that does not is asked again, the previous attempt's error added to the
    /// prompt (from <see cref="StepContext.PreviousFailures"/>), within the call's retry policy. Replay returns the
    /// journaled answer.
    /// </summary>
    /// <typeparam name="T">The answer's type.</typeparam>
    /// <param name="context">The run.</param>
    /// <param name="client">The chat client (its Keel middleware, if any, passes the call through inside the step).</param>
    /// <param name="messages">The conversation.</param>
    /// <param name="jsonOptions">The contract of <typeparamref name="T"/> (a source-generated context in a native AOT app);
    /// null for <see cref="AIJsonUtilities.DefaultOptions"/>.</param>
    /// <param name="validate">Returns what is wrong with a parsed answer, or null when it is fine.</param>
    /// <param name="options">The request's options; its response format defaults to <typeparamref name="T"/>'s JSON schema.</param>
    /// <param name="settings">How the call is journaled and retried; null for the defaults.</param>
    /// <returns>The parsed answer.</returns>
    public static async Task<T> ChatAsync<T>(this WorkflowContext context, IChatClient client, IEnumerable<ChatMessage> messages,
        JsonSerializerOptions? jsonOptions = null, Func<T, string?>? validate = null, ChatOptions? options = null, KeelChatOptions? settings = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(messages);
        settings ??= KeelChatOptions.Default;
        jsonOptions ??= AIJsonUtilities.DefaultOptions;
        var typeInfo = (JsonTypeInfo<T>)jsonOptions.GetTypeInfo(typeof(T));
        options = options?.Clone() ?? new ChatOptions();
        options.ResponseFormat ??= ChatResponseFormat.ForJsonSchema<T>(jsonOptions);
        ChatMessage[] prompt = [.. messages];
        var state = RunAIState.For(context);
        await state.CheckBudgetAsync(context, settings.TokenBudget).ConfigureAwait(false);
        var earlier = state.RecentPrompts();
        var record = await context.StepAsync(ModelCalls.StepName(settings, prompt, options), async step =>
        {
            KeelTools.EnterStep(step);
            var attempt = prompt;
            if (step.PreviousFailures.LastOrDefault(f => f.Error.Message.StartsWith(StructuredOutput.Prefix, StringComparison.Ordinal)) is { } failure)
            {
                attempt = [.. prompt, new ChatMessage(ChatRole.User,
                    $"Your previous answer could not be used: {failure.Error.Message[StructuredOutput.Prefix.Length..]} " +
                    "Answer again with only a JSON value that matches the requested schema.")];
            }
            var response = await ModelCalls.CallAsync(step, settings, options, o => client.GetResponseAsync(attempt, o, step.CancellationToken)).ConfigureAwait(false);
            StructuredOutput.Parse(response, typeInfo, validate);
            return ModelCalls.Report(step, ModelCalls.Write(context, attempt, earlier, response));
        }, new StepOptions { Retry = settings.EffectiveRetry }).ConfigureAwait(false);
        state.Add(record);
        return StructuredOutput.Parse(ChatRecord.ReadResponse(record, context.Messages), typeInfo, null);
    }

    /// <summary>
    /// Sets this run's token budget (wins over the client's <see cref="KeelChatOptions.TokenBudget"/>). Call it before the
    /// model calls it should govern, in the same place on every replay.
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="budget">The budget; null to remove it.</param>
    public static void SetTokenBudget(this WorkflowContext context, TokenBudget? budget)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (budget is not null)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(budget.MaxTokens, 1, nameof(budget));
        }
        RunAIState.For(context).Budget = budget;
    }

    /// <summary>The tokens this run's durable model calls have used so far (the same on every replay).</summary>
    /// <param name="context">The run.</param>
    /// <returns>The sum over the run's model calls so far.</returns>
    public static ModelUsage GetTokenUsage(this WorkflowContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunAIState.For(context).Usage;
    }
}
