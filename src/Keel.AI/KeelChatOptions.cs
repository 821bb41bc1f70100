namespace Keel.AI;

/// <summary>How <see cref="KeelChatClient"/> journals model calls made inside a workflow.</summary>
public sealed record KeelChatOptions
{
    /// <summary>The defaults: prompts checked, <see cref="DefaultRetry"/>, no fallback models, no token budget.</summary>
    public static KeelChatOptions Default { get; } = new();

    /// <summary>
    /// The retry policy of model calls unless <see cref="Retry"/> says otherwise: 6 attempts, 1 s doubling up to 30 s, and
    /// 120 s per attempt. A provider's 429 waits for its <c>Retry-After</c>; 5xx, timeouts, network errors and streams cut
    /// mid-way are retried; 400, 401, 403 and 404 are not (the next attempt would fail the same way) unless fallback
    /// models are set.
    /// </summary>
    public static RetryPolicy DefaultRetry { get; } = new()
    {
        MaxAttempts = 6,
        InitialDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(30),
        AttemptTimeout = TimeSpan.FromSeconds(120),
    };

    /// <summary>
    /// The durable name of the model-call step (default <c>chat</c>). With <see cref="CheckPrompts"/> the journaled name
    /// also carries a short hash of the prompt, e.g. <c>chat 3f2a9c1b07de</c>.
    /// </summary>
    public string StepName { get; init; } = "chat";

    /// <summary>
    /// True (the default) to report a prompt that differs from the one journaled at the same position like any other
    /// nondeterminism: the run stops <see cref="RunStatus.Blocked"/>, naming both. Set false for prompts that may
    /// legitimately vary between replays (text built from configuration, today's date): the recorded response is then
    /// returned for whatever prompt the code sends at that position.
    /// </summary>
    public bool CheckPrompts { get; init; } = true;

    /// <summary>The retry policy of each model call; null for <see cref="DefaultRetry"/>.</summary>
    public RetryPolicy? Retry { get; init; }

    /// <summary>
    /// Models to try, in order, when the primary keeps failing: after <see cref="AttemptsPerModel"/> failed attempts the
    /// call moves to the next one (setting <see cref="Microsoft.Extensions.AI.ChatOptions.ModelId"/>). The journaled
    /// response names the model that answered. Make <see cref="Retry"/> allow enough attempts for the whole list.
    /// </summary>
    public IReadOnlyList<string> FallbackModels { get; init; } = [];

    /// <summary>Failed attempts on one model before the next of <see cref="FallbackModels"/> is tried. At least 1.</summary>
    public int AttemptsPerModel { get; init; } = 2;

    /// <summary>A token budget for each run that uses this client (see <see cref="TokenBudget"/>); null for none.
    /// <see cref="KeelAIWorkflowContextExtensions.SetTokenBudget"/> sets one for a single run.</summary>
    public TokenBudget? TokenBudget { get; init; }

    internal RetryPolicy EffectiveRetry => Retry ?? DefaultRetry;
}
