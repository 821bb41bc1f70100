using System.Diagnostics.CodeAnalysis;
using Keel.Engine;
using Keel.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Keel;

/// <summary>Configures Keel: its store, its workflows and its options.</summary>
public sealed class KeelBuilder
{
    internal KeelBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection Keel registers into.</summary>
    public IServiceCollection Services { get; }

    internal WorkflowRegistry Registry { get; } = new();

    internal Func<IServiceProvider, IWorkflowStore>? StoreFactory { get; private set; }

    /// <summary>Whether this process runs a worker (default) or only a client.</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>Registers a workflow class under its <see cref="WorkflowAttribute"/> name, or its type name.</summary>
    /// <typeparam name="TWorkflow">A subclass of <see cref="Workflow{TInput, TResult}"/>; created through DI per execution.</typeparam>
    /// <returns>This builder.</returns>
    public KeelBuilder AddWorkflow<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorkflow>() where TWorkflow : class
    {
        Registry.Add(WorkflowDefinition.FromType(typeof(TWorkflow)));
        return this;
    }

    /// <summary>Registers a workflow given as a delegate.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="name">The durable name.</param>
    /// <param name="run">The workflow body. The same determinism rules apply as for <see cref="Workflow{TInput, TResult}"/>.</param>
    /// <returns>This builder.</returns>
    public KeelBuilder AddWorkflow<TInput, TResult>(string name, Func<WorkflowContext, TInput, Task<TResult>> run)
    {
        Registry.Add(WorkflowDefinition.FromDelegate(name, run));
        return this;
    }

    /// <summary>Sets the store. Store packages add shorthands such as <c>UseSqlite</c>.</summary>
    /// <param name="factory">Creates the store (a singleton).</param>
    /// <returns>This builder.</returns>
    public KeelBuilder UseStore(Func<IServiceProvider, IWorkflowStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        StoreFactory = factory;
        return this;
    }

    /// <summary>
    /// Limits how many runs of a workflow execute at once across all workers of the store (a queue with a concurrency
    /// limit). See <see cref="KeelOptions.ConcurrencyLimits"/>.
    /// </summary>
    /// <param name="workflowName">The workflow's durable name.</param>
    /// <param name="maxConcurrentRuns">At most this many held at once; at least 1.</param>
    /// <returns>This builder.</returns>
    public KeelBuilder LimitConcurrency(string workflowName, int maxConcurrentRuns)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowName);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentRuns, 1);
        return Configure(o => o.ConcurrencyLimits[workflowName] = maxConcurrentRuns);
    }

    /// <summary>
    /// Reads the options from the app's configuration section <paramref name="sectionPath"/> (e.g. <c>appsettings.json</c>:
    /// <c>{"Keel": {"MaxConcurrentRuns": 50, "LeaseDuration": "00:00:20", "BuildId": "2026.12.1",
    /// "ConcurrencyLimits": {"send-invoice": 4}, "Limits": {"MaxStepResultBytes": 1048576}}}</c>); keys are the names of
    /// <see cref="KeelOptions"/>' properties, durations as <c>hh:mm:ss</c>. <see cref="Configure"/> calls made after it
    /// change what it read. Code-only settings (serializer options, callbacks, retry policies) are not read.
    /// </summary>
    /// <param name="sectionPath">The section, <c>Keel</c> by default.</param>
    /// <returns>This builder.</returns>
    public KeelBuilder BindConfiguration(string sectionPath = "Keel")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        Services.AddOptions<KeelOptions>().Configure<IConfiguration>((options, configuration) => KeelOptionsBinding.Bind(configuration.GetSection(sectionPath), options));
        return this;
    }

    /// <summary>Changes the options.</summary>
    /// <param name="configure">Sets options.</param>
    /// <returns>This builder.</returns>
    public KeelBuilder Configure(Action<KeelOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }
}
