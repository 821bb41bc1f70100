using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.Tests;

internal static class TestHost
{
    /// <summary>Starts a worker on the database with short drain and poll times, and optionally a fake clock.</summary>
    public static Task<KeelHost> StartAsync(TempDatabase db, Action<KeelBuilder> workflows, TimeProvider? time = null, Action<KeelOptions>? options = null) =>
        KeelHost.StartAsync(k =>
        {
            k.UseSqlite(db.Path, o => o.Durability = Sqlite.SqliteDurability.Normal);
            k.Configure(o =>
            {
                o.DrainTimeout = TimeSpan.FromMilliseconds(200);
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                if (time is not null)
                {
                    // Leases are measured on the injected clock: a test that skips hours must not expire its own lease.
                    o.LeaseDuration = TimeSpan.FromDays(30);
                }
                options?.Invoke(o);
            });
            workflows(k);
        }, services =>
        {
            if (time is not null)
            {
                services.AddSingleton(time);
            }
        }, TestContext.Current.CancellationToken);

    public static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The journal without its annotations (which worker held the run, statuses, people's actions:
    /// <see cref="JournalKinds.IsAnnotation"/>): what the run's code did.</summary>
    public static IEnumerable<JournalEntry> WithoutHolders(IEnumerable<JournalEntry> journal) =>
        journal.Where(e => !JournalKinds.IsAnnotation(e.Kind));

    /// <summary>Waits (real time, bounded) until the condition holds.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int timeoutMs = 15000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, Token);
        }
    }

    public static Task WaitForJournalAsync(KeelClient client, string runId, Func<IReadOnlyList<JournalEntry>, bool> condition, string what) =>
        EventuallyAsync(async () => condition(await client.GetJournalAsync(runId, Token)), what);
}

/// <summary>Counts step body executions by name, across hosts in one test.</summary>
internal sealed class Executions
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public int this[string name] => _counts.GetValueOrDefault(name);

    public void Add(string name) => _counts.AddOrUpdate(name, 1, (_, n) => n + 1);
}
