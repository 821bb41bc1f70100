using System.ComponentModel;
using System.Globalization;
using System.Net;
using Keel.AI;
using Microsoft.Extensions.AI;

namespace Keel.Cli.Demo;

/// <summary>
/// The demo agent's model and tools. The model is the scripted one (offline, deterministic) unless an OpenAI-compatible
/// endpoint is configured (<c>KEEL_OPENAI_ENDPOINT</c>, <c>KEEL_OPENAI_API_KEY</c>, <c>KEEL_OPENAI_MODEL</c>). Either way
/// the provider misbehaves as providers do: turn 2's first attempt is rate limited (429), turn 3's first attempt hangs
/// until the attempt times out. Every answer the model gives and every tool execution is appended to the effects log.
/// </summary>
internal sealed class DemoAgent
{
    public const string ModelStepPrefix = "model:turn-";

    /// <summary>Short delays and a short attempt timeout, so the demo's retries take about a second each.</summary>
    public static KeelChatOptions ChatOptions { get; } = new()
    {
        Retry = new RetryPolicy
        {
            MaxAttempts = 5, InitialDelay = TimeSpan.FromMilliseconds(300), MaxDelay = TimeSpan.FromSeconds(2), AttemptTimeout = TimeSpan.FromSeconds(1.5),
        },
    };

    private readonly DemoSettings _settings;

    public DemoAgent(DemoSettings settings)
    {
        _settings = settings;
        var model = KeelChatClients.FromConfigurationOr(() => new ScriptedChatClient(Script, "keel-demo-scripted"));
        Chat = new ChatClientBuilder(new MisbehavingProvider(model, settings))
            .UseKeel(ChatOptions, f =>
            {
                f.MaximumIterationsPerRequest = 20;
                // Runs in the workflow (on the run's scheduler): people see what the agent is doing while a tool runs.
                f.FunctionInvoker = (call, token) =>
                {
                    WorkflowContext.Current?.SetStatus($"calling {call.Function.Name}");
                    return call.Function.InvokeAsync(call.Arguments, token);
                };
            })
            .Build();
        Tools =
        [
            AIFunctionFactory.Create(LookupCustomerAsync, "lookup_customer", "Looks a customer up by email: name, plan, last order."),
            new ApprovalRequiredAIFunction(KeelTools.AtMostOnce(
                AIFunctionFactory.Create(RefundAsync, "refund", "Refunds an order, in cents. Needs a person's approval."))),
        ];
    }

    public IChatClient Chat { get; }

    public IList<AITool> Tools { get; }

    private async Task<string> LookupCustomerAsync([Description("the customer's email")] string email, CancellationToken cancellationToken)
    {
        await WorkAsync("tool:lookup_customer", cancellationToken);
        return $"{email}: Ada Lovelace, plan Pro since 2023, last order A-1042 (headphones, $49.99, arrived damaged)";
    }

    private async Task<string> RefundAsync([Description("the order")] string orderId, [Description("the amount in cents")] int cents, CancellationToken cancellationToken)
    {
        await WorkAsync("tool:refund", cancellationToken);
        return string.Create(CultureInfo.InvariantCulture, $"refunded {cents / 100.0:0.00} USD on {orderId} (refund R-{orderId[^4..]})");
    }

    private async Task WorkAsync(string what, CancellationToken cancellationToken)
    {
        await Task.Delay(_settings.StepDelay, TimeProvider.System, cancellationToken);
        var step = KeelTools.CurrentStep;
        await EffectsLog.AppendAsync(_settings.EffectsLogPath, step?.RunId ?? "-", what, step?.Attempt ?? 0, cancellationToken);
    }

    /// <summary>The scripted model: turn 1 looks the customer up, turn 2 asks for the refund, turn 3 drafts the reply.</summary>
    private static ChatMessage Script(int turn, IReadOnlyList<ChatMessage> conversation)
    {
        var results = conversation.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.Result?.ToString() ?? "").ToList();
        return turn switch
        {
            1 => new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", "lookup_customer", new Dictionary<string, object?> { ["email"] = "ada@example.com" })]),
            2 => new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-2", "refund", new Dictionary<string, object?> { ["orderId"] = "A-1042", ["cents"] = 4999 })]),
            _ => new ChatMessage(ChatRole.Assistant,
                $"Hi Ada, I'm sorry your headphones arrived damaged. {(results.Count > 1 && results[1].StartsWith("refunded", StringComparison.Ordinal) ? $"I have {results[1]}; it shows on your card in 3-5 days." : $"I could not refund the order: {(results.Count > 1 ? results[1] : "no refund was made")}.")} -- Support"),
        };
    }

    /// <summary>The provider as the demo stages it: one 429, one timeout, and (in the first worker) a call that never returns.</summary>
    private sealed class MisbehavingProvider(IChatClient inner, DemoSettings settings) : DelegatingChatClient(inner)
    {
        public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            List<ChatMessage> conversation = [.. messages];
            var turn = 1 + conversation.Count(m => m.Role == ChatRole.Assistant);
            var attempt = KeelTools.CurrentStep?.Attempt ?? 1;
            var name = string.Create(CultureInfo.InvariantCulture, $"{ModelStepPrefix}{turn}");
            await Task.Delay(settings.StepDelay, TimeProvider.System, cancellationToken);
            if (settings.HoldAt is { } hold && hold.Step == name && attempt >= hold.Attempt)
            {
                // A call that never returns in this worker: the demo kills the worker while it waits here.
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);
            }
            if (turn == 2 && attempt == 1)
            {
                throw new HttpRequestException("Too Many Requests: rate limit reached for requests", null, HttpStatusCode.TooManyRequests);
            }
            if (turn == 3 && attempt == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken); // until the attempt times out
            }
            var response = await base.GetResponseAsync(conversation, options, cancellationToken);
            await EffectsLog.AppendAsync(settings.EffectsLogPath, KeelTools.CurrentStep?.RunId ?? "-", name, attempt, cancellationToken);
            return response;
        }
    }
}
