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
        try
        {
            return JsonSerializer.Deserialize(json, InputType, options);
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

    public static WorkflowDefinition FromType(Type workflowType, string? name = null)
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
        var method = typeof(WorkflowDefinition).GetMethod(nameof(CreateTyped), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(workflowType, args[0], args[1]);
        return (WorkflowDefinition)method.Invoke(null, [name])!;
    }

    private static WorkflowDefinition CreateTyped<TWorkflow, TInput, TResult>(string name)
        where TWorkflow : Workflow<TInput, TResult>
    {
        var factory = ActivatorUtilities.CreateFactory<TWorkflow>([]);
        return new WorkflowDefinition(name, typeof(TInput), typeof(TResult), async (services, ctx, input) =>
        {
            var workflow = factory(services, null);
            return await workflow.RunAsync(ctx, (TInput)input!);
        });
    }
}
