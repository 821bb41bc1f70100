using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.Engine;

/// <summary>A registered workflow: its durable name, types, and how to invoke it.</summary>
internal sealed class WorkflowDefinition
{
    private readonly Func<IServiceProvider, WorkflowContext, object?, Task<object?>> _invoke;

    private WorkflowDefinition(string name, Type inputType, Type resultType, Func<IServiceProvider, WorkflowContext, object?, Task<object?>> invoke)
    {
        Name = name;
        InputType = inputType;
        ResultType = resultType;
        _invoke = invoke;
    }

    public string Name { get; }

    public Type InputType { get; }

    public Type ResultType { get; }

    public Task<object?> InvokeAsync(IServiceProvider services, WorkflowContext context, object? input) =>
        _invoke(services, context, input);

    /// <summary>Parses a run's input; throws <see cref="InvalidWorkflowInputException"/> with the parser's reason.</summary>
    public object? DeserializeInput(string json, JsonSerializerOptions options)
    {
        // Outside the catch: no contract for the type is this process's configuration, not the run's input.
        var contract = KeelJson.TypeInfo(options, InputType);
        try
        {
            return JsonSerializer.Deserialize(json, contract);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException)
        {
            throw new InvalidWorkflowInputException(Name, InputType, ex);
        }
    }

    public static WorkflowDefinition FromDelegate<TInput, TResult>(string name, Func<WorkflowContext, TInput, Task<TResult>> run)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(run);
        return new WorkflowDefinition(name, typeof(TInput), typeof(TResult),
            async (_, ctx, input) => await run(ctx, (TInput)input!));
    }

    public static WorkflowDefinition FromType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type workflowType, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(workflowType);
        var baseType = workflowType;
        while (baseType is not null && !(baseType.IsGenericType && baseType.GetGenericTypeDefinition() == typeof(Workflow<,>)))
        {
            baseType = baseType.BaseType;
        }
        if (baseType is null || workflowType.IsAbstract)
        {
            throw new ArgumentException($"{workflowType.FullName} must be a non-abstract subclass of Workflow<TInput, TResult>.", nameof(workflowType));
        }
        name ??= workflowType.GetCustomAttribute<WorkflowAttribute>()?.Name ?? workflowType.Name;
        var args = baseType.GetGenericArguments();
        var factory = ActivatorUtilities.CreateFactory(workflowType, []);
        return new WorkflowDefinition(name, args[0], args[1], (services, ctx, input) =>
            ((IWorkflowInvoker)factory(services, null)).InvokeAsync(ctx, input));
    }
}
