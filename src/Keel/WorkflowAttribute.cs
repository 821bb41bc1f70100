namespace Keel;

/// <summary>Gives a workflow class its durable name.</summary>
/// <remarks>The name is persisted with every run. Renaming a workflow strands its in-flight runs: keep the old
/// name here when you rename the class.</remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WorkflowAttribute(string name) : Attribute
{
    /// <summary>The durable name runs are started with.</summary>
    public string Name { get; } = name;
}
