using Microsoft.Extensions.DependencyInjection;

namespace Keel.Cli.Demo;

/// <summary>Starts a Keel worker with the demo workflows registered, over a SQLite file.</summary>
internal static class DemoWorkerHost
{
    public static Task<KeelHost> StartAsync(string databasePath, TimeSpan stepDelay, StepAttemptRef? holdAt, CancellationToken cancellationToken)
    {
        var settings = new DemoSettings(stepDelay, DemoSettings.EffectsLogFor(databasePath), holdAt);
        return KeelHost.StartAsync(
            k => k.UseSqlite(databasePath)
                .AddWorkflow<SupportAgentWorkflow>()
                .Configure(o =>
                {
                    o.PollInterval = TimeSpan.FromMilliseconds(100);
                    o.DrainTimeout = TimeSpan.FromSeconds(2);
                }),
            services => services.AddSingleton(settings).AddSingleton<DemoAgent>(),
            cancellationToken);
    }
}
