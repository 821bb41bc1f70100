using System.Text.Json;

namespace Keel.Engine;

/// <summary>The workflows a process knows, by durable name.</summary>
internal sealed class WorkflowRegistry
{
    private readonly Dictionary<string, WorkflowDefinition> _byName = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _byName.Keys;

    public void Add(WorkflowDefinition definition)
    {
        if (!_byName.TryAdd(definition.Name, definition))
        {
            throw new InvalidOperationException($"A workflow named '{definition.Name}' is registered twice. Durable names must be unique.");
        }
    }

    /// <summary>Throws when <paramref name="options"/> has no JSON contract for a workflow's input or result type.</summary>
    public void CheckContracts(JsonSerializerOptions options)
    {
        foreach (var definition in _byName.Values)
        {
            foreach (var type in (ReadOnlySpan<Type>)[definition.InputType, definition.ResultType])
            {
                try
                {
                    _ = KeelJson.TypeInfo(options, type);
                }
                catch (NotSupportedException ex)
                {
                    throw new InvalidOperationException(
                        $"Workflow '{definition.Name}' cannot serialize {type.FullName}: KeelOptions.SerializerOptions has no JSON contract for it " +
                        "(and no reflection fallback, as in a native AOT app). Add the type to your JsonSerializerContext " +
                        "and put the context first in KeelOptions.SerializerOptions.TypeInfoResolverChain.", ex);
                }
            }
        }
    }

    public bool TryGet(string name, out WorkflowDefinition definition) => _byName.TryGetValue(name, out definition!);

    public WorkflowDefinition Get(string name) =>
        TryGet(name, out var definition) ? definition : throw new WorkflowNotFoundException(name, Names);
}
