using Keel;
using Keel.Engine;
using Keel.Hosting;
using Keel.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Keel with dependency injection.</summary>
public static class KeelServiceCollectionExtensions
{
    /// <summary>
    /// Adds Keel: the store, a <see cref="KeelClient"/>, and (unless <see cref="KeelBuilder.RunWorker"/> is false) a
    /// hosted worker that resumes every unfinished run on start and drains on shutdown.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Chooses the store and registers workflows.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKeel(this IServiceCollection services, Action<KeelBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new KeelBuilder(services);
        configure(builder);
        var storeFactory = builder.StoreFactory
            ?? throw new InvalidOperationException("Keel needs a store: call UseSqlite(path) (Keel.Sqlite) or UseStore(...) in AddKeel.");

        services.AddOptions<KeelOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeelOptions>, KeelOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(typeof(ILogger<>), typeof(Logging.Abstractions.NullLogger<>));
        services.TryAddSingleton<ILoggerFactory, Logging.Abstractions.NullLoggerFactory>();
        services.AddSingleton(builder.Registry);
        services.AddSingleton<RunNotifier>();
        services.AddSingleton(storeFactory);
        var runWorker = builder.RunWorker;
        services.AddSingleton(sp => new KeelClient(sp.GetRequiredService<IWorkflowStore>(), sp.GetRequiredService<IOptions<KeelOptions>>().Value,
            sp.GetRequiredService<WorkflowRegistry>(), sp.GetRequiredService<RunNotifier>(), sp.GetRequiredService<TimeProvider>(),
            runWorker ? sp.GetRequiredService<KeelWorker>() : null)); // eager start: the worker of this process, if it has one
        if (runWorker)
        {
            services.AddSingleton<KeelWorker>();
            services.AddHostedService(sp => sp.GetRequiredService<KeelWorker>());
        }
        return services;
    }
}
