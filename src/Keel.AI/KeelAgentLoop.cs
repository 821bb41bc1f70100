using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>A durable agent loop for <see cref="IChatClient"/> users without the Agent Framework.</summary>
public static class KeelAgentLoop
{
    /// <summary>
    /// Runs an agent: the model is called with the instructions, the goal and the tools; each tool it asks for is called
    /// and its result given back; until it answers without tool calls or <see cref="AgentLoopOptions.MaxTurns"/> is reached.
    /// Every model call and every tool call is a journaled step, so a run killed mid-loop resumes without calling the
    /// model again for turns already taken and without running completed tools again.
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="client">The provider's client, without function invocation (the loop calls the tools itself).</param>
    /// <param name="options">Instructions, goal, tools, turn limit.</param>
    /// <returns>How the loop ended.</returns>
    /// <exception cref="ArgumentException">The client invokes functions itself.</exception>
    public static async Task<AgentLoopResult> RunAgentLoopAsync(this WorkflowContext context, IChatClient client, AgentLoopOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTurns, 1, nameof(options));
        if (client.GetService<FunctionInvokingChatClient>() is not null)
        {
            throw new ArgumentException("The agent loop calls the tools itself: pass the provider's client without function invocation " +
                "(not built with UseKeel or UseFunctionInvocation).", nameof(client));
        }
        var settings = options.Settings ?? KeelChatOptions.Default;
        var tools = options.Tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var chatOptions = options.ChatOptions?.Clone() ?? new ChatOptions();
        chatOptions.Tools = [.. options.Tools];
        List<ChatMessage> messages = [new(ChatRole.System, options.Instructions), new(ChatRole.User, options.Goal)];
        var usage = new ModelUsage(null, 0, 0, 0);
        for (var turn = 1; ; turn++)
        {
            var response = await ModelCalls.GetResponseAsync(context, client, messages, chatOptions, settings).ConfigureAwait(false);
            if (response.Usage is { } u)
            {
                usage += new ModelUsage(response.ModelId, u.InputTokenCount ?? 0, u.OutputTokenCount ?? 0, u.TotalTokenCount ?? 0);
            }
            messages.AddRange(response.Messages);
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0 || turn >= options.MaxTurns)
            {
                return new AgentLoopResult(response.Text, turn, calls.Count > 0, messages, usage);
            }
            var results = new List<AIContent>(calls.Count);
            foreach (var call in calls)
            {
                results.Add(new FunctionResultContent(call.CallId, await CallToolAsync(context, tools, call).ConfigureAwait(false)));
            }
            messages.Add(new ChatMessage(ChatRole.Tool, results));
        }
    }

    private static async Task<object?> CallToolAsync(WorkflowContext context, Dictionary<string, AIFunction> tools, FunctionCallContent call)
    {
        if (!tools.TryGetValue(call.Name, out var tool))
        {
            return $"There is no tool named '{call.Name}'.";
        }
        try
        {
            return await DurableTool.InvokeDurablyAsync(context, tool, DurableTool.OptionsFor(tool), new AIFunctionArguments(call.Arguments)).ConfigureAwait(false);
        }
        catch (StepFailedException ex)
        {
            return $"The tool '{call.Name}' failed: {ex.Message}";
        }
    }
}
