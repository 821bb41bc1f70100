using Keel.AI;
using Microsoft.Extensions.AI;

namespace Keel.Cli.Demo;

/// <summary>A customer's message to the support agent.</summary>
internal sealed record SupportRequest(string Customer, string Message);

/// <summary>What the support agent answered, and what it cost.</summary>
internal sealed record SupportReply(string Reply, long Tokens, int ModelCalls);

/// <summary>
/// The demo agent: an <see cref="IChatClient"/> agent built with <c>UseKeel()</c>. The model looks the customer up, asks
/// for a refund (an AtMostOnce tool that needs a person's approval), and drafts the reply. Each model call and each tool
/// call is a journaled step, so a worker killed mid-conversation is resumed by another that neither asks the model again
/// for turns it answered nor runs a completed tool again.
/// </summary>
[Workflow(Name)]
internal sealed class SupportAgentWorkflow(DemoAgent agent) : Workflow<SupportRequest, SupportReply>
{
    public const string Name = "support-agent";

    public override async Task<SupportReply> RunAsync(WorkflowContext context, SupportRequest input)
    {
        context.SetStatus($"reading {input.Customer}'s message");
        var response = await agent.Chat.GetResponseAsync(
            [
                new ChatMessage(ChatRole.System, "You are a support agent. Look the customer up, refund what the policy allows, and draft a short reply."),
                new ChatMessage(ChatRole.User, $"From {input.Customer}: {input.Message}"),
            ],
            new ChatOptions { Tools = agent.Tools });
        context.SetStatus("reply drafted");
        var usage = context.GetTokenUsage();
        return new SupportReply(response.Text, usage.TotalTokens, response.Messages.Count(m => m.Role == ChatRole.Assistant));
    }
}
