using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Keel.AI;

/// <summary>
/// What Keel.AI knows about one run while its workflow code executes: the tokens used so far (summed from the journaled
/// responses, so replay rebuilds the same total), the run's token budget, and the prompts of its model calls as message
/// hashes (rebuilt from the journal on replay, without the messages), which a new call's prompt is journaled against.
/// </summary>
internal sealed class RunAIState
{
    private static readonly ConditionalWeakTable<WorkflowContext, RunAIState> s_states = [];

    public static RunAIState For(WorkflowContext context) => s_states.GetValue(context, static _ => new RunAIState());

    public ModelUsage Usage { get; private set; } = new(null, 0, 0, 0);

    public int ModelCalls { get; private set; }

    /// <summary>Set by the workflow for this run; wins over the client's.</summary>
    public TokenBudget? Budget { get; set; }

    // Per model call, in journal order: its prompt's message hashes (null for a call journaled without them).
    private readonly List<string[]?> _prompts = [];

    /// <summary>Counts a journaled model call (its usage, and its prompt for the calls after it), as it is delivered.</summary>
    public void Add(JsonElement record)
    {
        ModelCalls++;
        if (ChatRecord.ReadUsage(record) is { } usage)
        {
            Usage += usage;
        }
        _prompts.Add(ChatRecord.ReadPrompt(record)?.Resolve(_prompts));
    }

    /// <summary>The latest calls' prompts a new call's prompt may be journaled against (a copy: a step body reads it on
    /// another thread).</summary>
    public (int Index, string[] Hashes)[] RecentPrompts()
    {
        var recent = new List<(int, string[])>(PromptChange.Candidates);
        for (var i = Math.Max(0, _prompts.Count - PromptChange.Candidates); i < _prompts.Count; i++)
        {
            if (_prompts[i] is { } hashes)
            {
                recent.Add((i, hashes));
            }
        }
        return [.. recent];
    }

    /// <summary>Before a model call: fails, or asks a person to raise the budget, when it is spent.</summary>
    public async Task CheckBudgetAsync(WorkflowContext context, TokenBudget? clientBudget)
    {
        while ((Budget ?? clientBudget) is { } budget && Usage.TotalTokens >= budget.MaxTokens)
        {
            if (budget.WhenExceeded == TokenBudgetAction.Fail)
            {
                throw new TokenBudgetExceededException(Usage.TotalTokens, budget.MaxTokens);
            }
            var proposed = JsonSerializer.SerializeToElement(new Dictionary<string, long> { ["maxTokens"] = budget.MaxTokens * 2 }, AIJson.LongMap);
            var decision = await context.RequestApprovalAsync(new ApprovalRequest<JsonElement>
            {
                Name = "token-budget",
                Title = $"Raise the token budget: the run used {Usage.TotalTokens} tokens of {budget.MaxTokens}",
                Details = "Approve to let the run go on with the budget in maxTokens (edit it to choose); reject to fail the run.",
                Action = "raise-token-budget",
                Arguments = proposed,
            }).ConfigureAwait(false);
            if (!decision.IsApproved)
            {
                throw new TokenBudgetExceededException(Usage.TotalTokens, budget.MaxTokens,
                    $"{decision.Outcome.ToString().ToLowerInvariant()} by {decision.DecidedBy ?? "nobody"}{(decision.Comment is { } c ? $": {c}" : "")}");
            }
            var raised = decision.Arguments.ValueKind == JsonValueKind.Object && decision.Arguments.TryGetProperty("maxTokens", out var max) && max.TryGetInt64(out var n)
                ? n
                : budget.MaxTokens * 2;
            Budget = budget with { MaxTokens = Math.Max(raised, budget.MaxTokens + 1) };
        }
    }
}
