using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>Declares how tools behave inside a workflow, and what a tool body knows about its own step.</summary>
public static class KeelTools
{
    private static readonly AsyncLocal<StepContext?> s_step = new();

    /// <summary>
    /// The step a tool body or a model call runs in, inside a workflow (through a durable chat client): its run, attempt,
    /// earlier failures and <see cref="StepContext.IdempotencyKey"/> (pass it to an API that deduplicates by key). Null
    /// outside one.
    /// </summary>
    public static StepContext? CurrentStep => s_step.Value;

    /// <summary>Gives a tool its effect kind, retry policy, outcome check or approval requirement inside workflows.</summary>
    /// <param name="function">The tool.</param>
    /// <param name="options">How its calls are journaled.</param>
    /// <returns>The tool, carrying the options (it behaves as <paramref name="function"/> outside workflows).</returns>
    public static AIFunction WithOptions(AIFunction function, KeelToolOptions options)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(options);
        return new ConfiguredTool(function, options);
    }

    /// <summary>Makes a tool <see cref="StepEffect.AtMostOnce"/>: never run twice, an interrupted call settled by a person.</summary>
    /// <param name="function">The tool.</param>
    /// <returns>The tool.</returns>
    public static AIFunction AtMostOnce(AIFunction function) => WithOptions(function, new KeelToolOptions { Effect = StepEffect.AtMostOnce });

    /// <summary>Makes a tool <see cref="StepEffect.Idempotent"/>: it may run again after a crash, with the same idempotency key.</summary>
    /// <param name="function">The tool.</param>
    /// <returns>The tool.</returns>
    public static AIFunction Idempotent(AIFunction function) => WithOptions(function, new KeelToolOptions { Effect = StepEffect.Idempotent });

    /// <summary>Called at the top of an async step body: the value flows to the tool it calls and ends with the body.</summary>
    internal static void EnterStep(StepContext step) => s_step.Value = step;

    private sealed class ConfiguredTool(AIFunction inner, KeelToolOptions options) : DelegatingAIFunction(inner)
    {
        public override object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceKey is null && serviceType == typeof(KeelToolOptions) ? options : base.GetService(serviceType, serviceKey);
    }
}
