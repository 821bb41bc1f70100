using Keel.Engine;
using Keel.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Keel;

/// <summary>
/// A Keel worker and client without a generic host, for console tools and tests:
/// <c>await using var keel = await KeelHost.StartAsync(k => k.UseSqlite("app.db").AddWorkflow&lt;MyFlow&gt;());</c>.
/// </summary>
public sealed class KeelHost : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly KeelWorker? _worker;

    private KeelHost(ServiceProvider provider)
    {
        _provider = provider;
        _worker = provider.GetService<KeelWorker>();
        Client = provider.GetRequiredService<KeelClient>();
    }

    /// <summary>The client.</summary>
    public KeelClient Client { get; }

    /// <summary>The services Keel was built with.</summary>
    public IServiceProvider Services => _provider;

    /// <summary>The store.</summary>
    public IWorkflowStore Store => _provider.GetRequiredService<IWorkflowStore>();

    /// <summary>Builds Keel, opens the store and starts the worker (which resumes every unfinished run).</summary>
    /// <param name="configure">Chooses the store and registers workflows.</param>
    /// <param name="configureServices">Adds services workflows depend on, and logging; optional.</param>
    /// <param name="cancellationToken">Cancels start-up.</param>
    /// <returns>The started host.</returns>
    public static async Task<KeelHost> StartAsync(Action<KeelBuilder> configure, Action<IServiceCollection>? configureServices = null,
        CancellationToken cancellationToken = default)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        configureServices?.Invoke(services);
        services.AddKeel(configure);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var host = new KeelHost(provider);
        try
        {
            await host.Store.InitializeAsync(cancellationToken);
            if (host._worker is not null)
            {
                await host._worker.StartAsync(cancellationToken);
            }
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
        return host;
    }

    /// <summary>Stops the worker: no new claims, in-flight steps drain, leases are released.</summary>
    /// <param name="cancellationToken">Shortens the drain.</param>
    /// <returns>A task that completes when the worker stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        _worker?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _provider.DisposeAsync();
    }

    internal KeelWorker? Worker => _worker;
}
