using Keel.AI.Tests.Fakes;
using Keel.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Keel.AI.Tests;

/// <summary>A temporary directory with a database path, deleted at the end.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keel-ai-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Db => System.IO.Path.Combine(Path, "keel.db");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class TestHosts
{
    public static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A worker on the database, with short drain and poll times.</summary>
    public static Task<KeelHost> StartAsync(string db, Action<KeelBuilder> workflows, Action<IServiceCollection>? services = null) =>
        KeelHost.StartAsync(k =>
        {
            k.UseSqlite(db, o => o.Durability = SqliteDurability.Normal);
            k.Configure(o =>
            {
                o.DrainTimeout = TimeSpan.FromMilliseconds(200);
                o.PollInterval = TimeSpan.FromMilliseconds(20);
            });
            workflows(k);
        }, services, Token);

    /// <summary>The official OpenAI client, through Microsoft.Extensions.AI.OpenAI, against the fake server.</summary>
    public static IChatClient OpenAI(FakeOpenAIServer server, string model = "gpt-test", TimeSpan? networkTimeout = null) =>
        KeelChatClients.CreateOpenAI(server.Endpoint, "test-key", model, networkTimeout);

    /// <summary>The same, made durable with UseKeel().</summary>
    public static IChatClient Durable(FakeOpenAIServer server, KeelChatOptions? options = null) =>
        new ChatClientBuilder(OpenAI(server)).UseKeel(options, f => { f.MaximumIterationsPerRequest = 1000; f.IncludeDetailedErrors = true; }).Build();

    /// <summary>Waits (real time, bounded) until the condition holds.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int timeoutMs = 20000)
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

    public static Task WaitForStatusAsync(KeelClient client, string runId, RunStatus status) =>
        EventuallyAsync(async () => (await client.GetRunAsync(runId, Token))?.Status == status, $"run {runId} is {status}");

    public static async Task<IReadOnlyList<JournalEntry>> CompletedStepsAsync(KeelClient client, string runId, string prefix) =>
        [.. (await client.GetJournalAsync(runId, Token)).Where(e => e.Kind == JournalEntryKind.StepCompleted && e.Name.StartsWith(prefix, StringComparison.Ordinal))];
}
