using System.Globalization;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>Microsoft Agent Framework agents as durable Keel runs.</summary>
public static class KeelAgents
{
    /// <summary>
    /// Runs an agent inside a workflow: each model call and each tool call of its run is a journaled step, so a run that
    /// is resumed (after a crash, a redeploy, a wait for a person) continues the agent's run instead of repeating it.
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="agent">The agent; a <see cref="ChatClientAgent"/> whose chat client is built with <c>UseKeel()</c>.</param>
    /// <param name="messages">The new messages.</param>
    /// <param name="session">The conversation to continue; null for a new one.</param>
    /// <returns>The agent's response.</returns>
    /// <exception cref="InvalidOperationException">The agent's chat client is not durable.</exception>
    public static async Task<AgentResponse> RunAgentAsync(this WorkflowContext context, AIAgent agent, IEnumerable<ChatMessage> messages, AgentSession? session = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(messages);
        EnsureDurable(agent);
        return await agent.RunAsync(messages, session).ConfigureAwait(false);
    }

    /// <summary>
    /// Registers an agent as a workflow: each run is one turn of a conversation (<see cref="AgentTurn"/> in,
    /// <see cref="AgentTurnResult"/> out), durable model and tool calls, approvals of its
    /// <see cref="ApprovalRequiredAIFunction"/> tools through Keel (<c>keel pending</c>, <c>keel approve</c>, the API and
    /// the dashboard). Operators start, watch and approve agent runs like any other run; <see cref="RunAgentTurnAsync"/>
    /// keeps a conversation's turns together by session id.
    /// </summary>
    /// <param name="builder">The Keel builder.</param>
    /// <param name="name">The workflow's durable name.</param>
    /// <param name="agent">The agent (its chat client built with <c>UseKeel()</c>).</param>
    /// <returns>The builder.</returns>
    public static KeelBuilder AddAgent(this KeelBuilder builder, string name, AIAgent agent)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(agent);
        EnsureDurable(agent);
        return builder.AddWorkflow<AgentTurn, AgentTurnResult>(name, async (context, turn) =>
        {
            var session = turn.Session is { } saved
                ? await agent.DeserializeSessionAsync(AgentSessions.Load(context, saved)).ConfigureAwait(false)
                : await agent.CreateSessionAsync().ConfigureAwait(false);
            var before = context.GetTokenUsage();
            var response = await agent.RunAsync([new ChatMessage(ChatRole.User, turn.Message)], session).ConfigureAwait(false);
            var after = context.GetTokenUsage();
            return new AgentTurnResult
            {
                Text = response.Text,
                // By reference: the session's messages are stored before the run's end is (see AgentSessions).
                Session = AgentSessions.Save(context, await agent.SerializeSessionAsync(session).ConfigureAwait(false)),
                Usage = new ModelUsage(after.Model, after.InputTokens - before.InputTokens, after.OutputTokens - before.OutputTokens,
                    after.TotalTokens - before.TotalTokens),
            };
        });
    }

    /// <summary>
    /// Runs the next turn of a conversation with an agent registered by <see cref="AddAgent"/>: the turns of a session are
    /// the runs <c>{sessionId}:turn-{n}</c>, so the conversation lives in Keel's store, outlives any one run and process,
    /// and each turn continues where the previous one ended. Waits for the turn's result (which may take a person's approval).
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="agentName">The agent's workflow name.</param>
    /// <param name="sessionId">The conversation's id (a run id prefix: see <see cref="RunIds"/>).</param>
    /// <param name="message">The user's message.</param>
    /// <param name="cancellationToken">Cancels the wait (not the run).</param>
    /// <returns>The turn's result.</returns>
    public static async Task<AgentTurnResult> RunAgentTurnAsync(this KeelClient client, string agentName, string sessionId, string message,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        RunIds.Validate(sessionId);
        var lastCompleted = 0;
        var turn = 1;
        for (; ; turn++)
        {
            var id = TurnId(sessionId, turn);
            var run = await client.GetRunAsync(id, cancellationToken).ConfigureAwait(false);
            if (run is null)
            {
                break;
            }
            if (run.Status == RunStatus.Completed)
            {
                lastCompleted = turn;
            }
            else if (run.Status is not (RunStatus.Failed or RunStatus.Cancelled))
            {
                // A turn still going (or waiting for a person): wait for it rather than start another beside it.
                return await client.GetResultAsync<AgentTurnResult>(id, cancellationToken).ConfigureAwait(false);
            }
        }
        // A failed or cancelled turn is skipped: the conversation goes on from the last completed one.
        var previous = lastCompleted == 0 ? null
            : await client.GetResultAsync<AgentTurnResult>(TurnId(sessionId, lastCompleted), cancellationToken).ConfigureAwait(false);
        var started = await client.StartAsync(agentName, new AgentTurn { Message = message, Session = previous?.Session },
            new StartWorkflowOptions { RunId = TurnId(sessionId, turn) }, cancellationToken).ConfigureAwait(false);
        return await client.GetResultAsync<AgentTurnResult>(started.RunId, cancellationToken).ConfigureAwait(false);
    }

    private static string TurnId(string sessionId, int turn) => string.Create(CultureInfo.InvariantCulture, $"{sessionId}:turn-{turn}");

    private static void EnsureDurable(AIAgent agent)
    {
        if (agent.GetService<IChatClient>() is { } chat && chat.GetService<KeelChatClient>() is null)
        {
            throw new InvalidOperationException($"The agent '{agent.Name ?? agent.Id}' calls a chat client that is not durable: build it with UseKeel() " +
                "(new ChatClientBuilder(client).UseKeel().Build()) so each model call and tool call of the agent is journaled.");
        }
    }
}
