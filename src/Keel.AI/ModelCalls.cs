using System.Text.Json;
using Keel.Storage;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>One model call as a journaled step: the body calls the provider; replay returns the journaled response.</summary>
/// <remarks>
/// Awaits of durable operations here (and everywhere in Keel.AI's workflow-side code) use <c>ConfigureAwait(false)</c> on
/// purpose: Keel delivers an outcome on the executor's thread outside any task, so the continuation runs there, inline,
/// and so do the <c>ConfigureAwait(false)</c> continuations of the library code that awaits us (the function-invoking
/// client, the Agent Framework). Resuming on the run's scheduler instead would complete our task inside a scheduler task,
/// where .NET does not inline those continuations but sends them to the thread pool, off the run's scheduler.
/// </remarks>
internal static class ModelCalls
{
    public static async Task<ChatResponse> GetResponseAsync(WorkflowContext context, IChatClient inner, IEnumerable<ChatMessage> messages,
        ChatOptions? options, KeelChatOptions settings)
    {
        ChatMessage[] prompt = [.. messages];
        var state = RunAIState.For(context);
        await state.CheckBudgetAsync(context, settings.TokenBudget).ConfigureAwait(false);
        var earlier = state.RecentPrompts();
        var record = await context.StepAsync(StepName(settings, prompt, options), async step =>
        {
            KeelTools.EnterStep(step);
            var response = await CallAsync(step, settings, options, o => inner.GetResponseAsync(prompt, o, step.CancellationToken)).ConfigureAwait(false);
            return Report(step, Write(context, prompt, earlier, response));
        }, new StepOptions { Retry = settings.EffectiveRetry }).ConfigureAwait(false);
        state.Add(record);
        return ChatRecord.ReadResponse(record, context.Messages);
    }

    /// <summary>
    /// A call's record with its prompt and response by reference: the messages the run has not stored yet are staged, to be
    /// stored in the transaction that appends the step's outcome (a journal never names a message that is not stored).
    /// Without a message store (a context other than Keel's executor) the response is journaled inline.
    /// </summary>
    public static JsonElement Write(WorkflowContext context, IReadOnlyList<ChatMessage> prompt, (int Index, string[] Hashes)[] earlier,
        ChatResponse response)
    {
        if (context.Messages is not { } messages)
        {
            return ChatRecord.WriteInline(response);
        }
        var blobs = new List<StoredMessage>();
        var promptMessages = prompt.Select(m => ChatRecord.ToStored(m, blobs)).ToArray();
        var change = PromptChange.Encode(promptMessages, earlier);
        var responseMessages = response.Messages.Select(m => ChatRecord.ToStored(m, blobs)).ToArray();
        // The run already knows most blobs (its tools staged them); staging skips what it knows.
        messages.Stage([.. blobs, .. promptMessages.Skip(change.Keep), .. responseMessages]);
        return ChatRecord.Write(response, change, [.. responseMessages.Select(m => m.Hash)]);
    }

    /// <summary>A streamed call's record: its updates inline (replay yields them), its prompt by reference.</summary>
    public static JsonElement Write(WorkflowContext context, IReadOnlyList<ChatMessage> prompt, (int Index, string[] Hashes)[] earlier,
        IReadOnlyList<ChatResponseUpdate> updates)
    {
        if (context.Messages is not { } messages)
        {
            return ChatRecord.Write(updates, null);
        }
        var blobs = new List<StoredMessage>();
        var promptMessages = prompt.Select(m => ChatRecord.ToStored(m, blobs)).ToArray();
        var change = PromptChange.Encode(promptMessages, earlier);
        messages.Stage([.. blobs, .. promptMessages.Skip(change.Keep)]);
        return ChatRecord.Write(updates, change);
    }

    public static async Task<List<ChatResponseUpdate>> GetStreamingResponseAsync(WorkflowContext context, IChatClient inner, IEnumerable<ChatMessage> messages,
        ChatOptions? options, KeelChatOptions settings)
    {
        ChatMessage[] prompt = [.. messages];
        var state = RunAIState.For(context);
        await state.CheckBudgetAsync(context, settings.TokenBudget).ConfigureAwait(false);
        var earlier = state.RecentPrompts();
        var record = await context.StepAsync(StepName(settings, prompt, options), async step =>
        {
            KeelTools.EnterStep(step);
            // The whole stream is read in the step: a stream cut mid-way fails the attempt and is asked again, and the
            // workflow sees the updates of the attempt that completed, once, in order, live and on every replay.
            var updates = await CallAsync(step, settings, options, async o =>
            {
                var list = new List<ChatResponseUpdate>();
                await foreach (var update in inner.GetStreamingResponseAsync(prompt, o, step.CancellationToken).ConfigureAwait(false))
                {
                    list.Add(update);
                }
                return list;
            });
            return Report(step, Write(context, prompt, earlier, updates));
        }, new StepOptions { Retry = settings.EffectiveRetry }).ConfigureAwait(false);
        state.Add(record);
        return ChatRecord.ReadUpdates(record);
    }

    /// <summary>Counts the call in the run's token totals (<see cref="RunInfo.Tokens"/>), committed with the record.</summary>
    public static JsonElement Report(StepContext step, JsonElement record)
    {
        var usage = ChatRecord.ReadUsage(record);
        step.ReportModelUsage(usage?.InputTokens ?? 0, usage?.OutputTokens ?? 0, usage?.TotalTokens ?? 0);
        return record;
    }

    /// <summary>The step's durable name: with prompt checks, a hash of the prompt, so a changed prompt is nondeterminism.</summary>
    public static string StepName(KeelChatOptions settings, IEnumerable<ChatMessage> prompt, ChatOptions? options) =>
        settings.CheckPrompts ? $"{settings.StepName} {ChatRecord.PromptHash(prompt, options)}" : settings.StepName;

    /// <summary>Calls the provider for one attempt, on the fallback model the attempt number chooses.</summary>
    public static async Task<T> CallAsync<T>(StepContext step, KeelChatOptions settings, ChatOptions? options, Func<ChatOptions?, Task<T>> call)
    {
        var fallbacks = settings.FallbackModels;
        if (fallbacks.Count > 0)
        {
            var index = (step.Attempt - 1) / Math.Max(1, settings.AttemptsPerModel);
            if (index > 0)
            {
                options = options?.Clone() ?? new ChatOptions();
                options.ModelId = fallbacks[Math.Min(index, fallbacks.Count) - 1];
            }
        }
        try
        {
            return await call(options).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ModelErrors.Classify(ex, fallbacks.Count > 0) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>The usage in a journaled step result, when it is a model call's.</summary>
    public static ModelUsage? UsageOf(JsonElement record) => ChatRecord.ReadUsage(record);
}
