using System.ComponentModel;
using Keel;
using Keel.AI;
using Microsoft.Extensions.AI;

namespace Keel.AI.TestWorker;

/// <summary>The result of an agent run: the model's last answer and the tokens the run used.</summary>
public sealed record AgentRunResult(string Text, long TotalTokens, int ModelCalls);

/// <summary>
/// An agent written against IChatClient: a research loop whose model calls one tool per turn until it answers. The chat
/// client comes from DI, built with UseKeel(), so each model call and each tool call is a journaled step.
/// </summary>
[Workflow("tool-loop")]
public sealed class ToolLoopAgent(IChatClient chat, ToolLog log) : Workflow<string, AgentRunResult>
{
    public override async Task<AgentRunResult> RunAsync(WorkflowContext context, string input)
    {
        var lookup = AIFunctionFactory.Create(([Description("what to look up")] string query) => log.Lookup(query), "lookup", "Looks up a fact.");
        var response = await chat.GetResponseAsync(
            [new(ChatRole.System, "You are a research agent. Use the lookup tool until you can answer."), new(ChatRole.User, input)],
            new ChatOptions { Tools = [lookup] });
        context.SetStatus($"answered after {context.GetTokenUsage().TotalTokens} tokens");
        return new AgentRunResult(response.Text, context.GetTokenUsage().TotalTokens, response.Messages.Count(m => m.Role == ChatRole.Assistant));
    }
}

/// <summary>The side-effect log of the lookup tool: one line per body execution, flushed before the tool returns.</summary>
public sealed class ToolLog(string? path)
{
    private readonly Lock _lock = new();
    private readonly List<string> _inMemory = [];

    public string Lookup(string query)
    {
        lock (_lock)
        {
            if (path is null)
            {
                _inMemory.Add(query);
            }
            else
            {
                File.AppendAllText(path, query + "\n");
            }
        }
        // About 1 KB of text, as W6 specifies.
        return $"Facts about {query}: " + string.Concat(Enumerable.Repeat($"[{query}] lorem ipsum dolor sit amet. ", 28));
    }

    /// <summary>Every query the tool body ran for, in order.</summary>
    public IReadOnlyList<string> Queries()
    {
        lock (_lock)
        {
            return path is null ? [.. _inMemory] : File.Exists(path) ? File.ReadAllLines(path) : [];
        }
    }
}
