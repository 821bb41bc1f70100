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

    public bool TryGet(string name, out WorkflowDefinition definition) => _byName.TryGetValue(name, out definition!);

    public WorkflowDefinition Get(string name) =>
        TryGet(name, out var definition) ? definition : throw new WorkflowNotFoundException(name, Names);
}
