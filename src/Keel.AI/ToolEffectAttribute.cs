namespace Keel.AI;

/// <summary>
/// Declares the effect kind of a method used as a tool (through <c>AIFunctionFactory.Create</c>): how often its body may
/// run inside a workflow. Without it a tool is <see cref="StepEffect.Retryable"/>.
/// </summary>
/// <param name="effect">The effect kind.</param>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false, Inherited = true)]
public sealed class ToolEffectAttribute(StepEffect effect) : Attribute
{
    /// <summary>The effect kind.</summary>
    public StepEffect Effect { get; } = effect;
}
