namespace Keel.Testing;

/// <summary>What a chaos workload driver (<see cref="ChaosOptions.Workload"/>) gets to work with.</summary>
public sealed class ChaosWorkloadContext
{
    private readonly Func<bool> _isChaosRunning;

    internal ChaosWorkloadContext(KeelClient client, Random random, Task chaosEnded, Func<bool> isChaosRunning, CancellationToken cancellationToken)
    {
        Client = client;
        Random = random;
        ChaosEnded = chaosEnded;
        _isChaosRunning = isChaosRunning;
        CancellationToken = cancellationToken;
    }

    /// <summary>The client over the workers' store: start runs, send signals, decide approvals with it.</summary>
    public KeelClient Client { get; }

    /// <summary>A random source seeded from the harness's seed (not shared with the harness: use it from one thread).</summary>
    public Random Random { get; }

    /// <summary>True while the harness still kills or stops workers: a soak goes on starting runs until it is false.</summary>
    public bool IsChaosRunning => _isChaosRunning();

    /// <summary>Completes when the interference has ended (every kill and stop done).</summary>
    public Task ChaosEnded { get; }

    /// <summary>Fires when the harness gives up on the workload (the settle timeout passed, or the harness was cancelled).</summary>
    public CancellationToken CancellationToken { get; }
}
