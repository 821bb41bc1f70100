using System.Text.Json;
using Keel.Postgres;
using Keel.Sqlite;
using Keel.Storage;
using Npgsql;

namespace Keel.Server.Tests;

/// <summary>Which store a test runs on: every API test runs on both.</summary>
public enum StoreKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A store (a temporary SQLite file, or a PostgreSQL schema of its own), workers on it, and a <see cref="KeelServer"/>
/// on a store instance of its own, as <c>keel serve</c> runs beside workers in another process.
/// </summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private const string PostgresVariable = "KEEL_TEST_POSTGRES";
    private readonly StoreKind _kind;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "keel-server-tests", Guid.NewGuid().ToString("N"));
    private readonly string _schema = "keel_s_" + Guid.NewGuid().ToString("N")[..16];
    private readonly List<KeelHost> _workers = [];
    private IWorkflowStore? _serverStore;
    private KeelServer? _server;

    private ServerHarness(StoreKind kind)
    {
        _kind = kind;
        Directory.CreateDirectory(_directory);
    }

    public HttpClient Http { get; } = new();

    /// <summary>The server's store, to set up states the API cannot make (a Blocked run).</summary>
    public IWorkflowStore Store => _serverStore!;

    public Uri BaseAddress => Http.BaseAddress!;

    public static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A worker with the given workflows, then the server (with an API key when given).</summary>
    public static async Task<ServerHarness> StartAsync(StoreKind kind, Action<KeelBuilder> workflows, string? apiKey = null,
        IReadOnlyList<KeelApiKey>? apiKeys = null)
    {
        var harness = new ServerHarness(kind);
        try
        {
            await harness.StartWorkerAsync(workflows);
            harness._serverStore = harness.CreateStore();
            await harness._serverStore.InitializeAsync(Token);
            harness._server = await KeelServer.StartAsync(KeelClient.Create(harness._serverStore),
                new KeelServerOptions { Url = "http://127.0.0.1:0", ApiKey = apiKey, ApiKeys = apiKeys ?? [] }, cancellationToken: Token);
            harness.Http.BaseAddress = harness._server.Addresses[0];
            return harness;
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a worker (another may run; the last one started is <see cref="Worker"/>).</summary>
    public async Task<KeelHost> StartWorkerAsync(Action<KeelBuilder> workflows)
    {
        var worker = await KeelHost.StartAsync(k =>
        {
            if (_kind == StoreKind.Sqlite)
            {
                k.UseSqlite(Path.Combine(_directory, "keel.db"), o => o.Durability = SqliteDurability.Normal);
            }
            else
            {
                k.UseKeelPostgres(PostgresOptions());
            }
            k.Configure(o =>
            {
                o.DrainTimeout = TimeSpan.FromMilliseconds(200);
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            });
            workflows(k);
        }, cancellationToken: Token);
        _workers.Add(worker);
        return worker;
    }

    public KeelHost Worker => _workers[^1];

    /// <summary>Stops a worker as a shutdown does: its step bodies in flight are cancelled after the drain time.</summary>
    public async Task StopWorkerAsync(KeelHost worker)
    {
        _workers.Remove(worker);
        await worker.DisposeAsync();
    }

    /// <summary>Breaks the store under the server, as an operator's mistake or a disk does: the PostgreSQL schema is
    /// dropped; the SQLite file is overwritten with bytes that are not a database.</summary>
    public async Task BreakStoreAsync()
    {
        if (_kind == StoreKind.Postgres)
        {
            await using var connection = new NpgsqlConnection(PostgresConnectionString);
            await connection.OpenAsync(Token);
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE;", connection);
            await drop.ExecuteNonQueryAsync(Token);
            return;
        }
        var garbage = new byte[64 * 1024];
        Random.Shared.NextBytes(garbage);
        foreach (var suffix in new[] { "-wal", "-shm", "" })
        {
            var path = Path.Combine(_directory, "keel.db" + suffix);
            if (File.Exists(path))
            {
                await File.WriteAllBytesAsync(path, garbage, Token);
            }
        }
    }

    private IWorkflowStore CreateStore() => _kind == StoreKind.Sqlite
        ? new SqliteWorkflowStore(new SqliteStoreOptions { Path = Path.Combine(_directory, "keel.db"), Durability = SqliteDurability.Normal })
        : new PostgresWorkflowStore(PostgresOptions());

    private PostgresStoreOptions PostgresOptions() => new() { ConnectionString = PostgresConnectionString, Schema = _schema };

    private static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{PostgresVariable} is not set, so the PostgreSQL API tests have no server. Run ./test.sh " +
                                                  "(it starts a throwaway PostgreSQL with eng/postgres.sh), or set it to a server's connection string.");

    // ---- HTTP helpers ----

    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? body = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }
        configure?.Invoke(request);
        using var response = await Http.SendAsync(request, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public Task<(int Status, JsonElement Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<(int Status, JsonElement Body)> PostAsync(string path, string? body = null) => SendAsync(HttpMethod.Post, path, body);

    public Task<(int Status, JsonElement Body)> PostJsonAsync<T>(string path, T value) =>
        SendAsync(HttpMethod.Post, path, JsonSerializer.Serialize(value, KeelJson.Default));

    /// <summary>Polls a GET until the condition holds (bounded, real time).</summary>
    public async Task<JsonElement> EventuallyAsync(string path, Func<JsonElement, bool> condition, string what, int timeoutMs = 20000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            var (status, body) = await GetAsync(path);
            if (status == 200 && condition(body))
            {
                return body;
            }
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}; last answer {status}: {body}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System, Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
        if (_serverStore is not null)
        {
            await _serverStore.DisposeAsync();
        }
        if (_kind == StoreKind.Postgres)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(PostgresConnectionString);
            await connection.OpenAsync(CancellationToken.None);
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE;", connection);
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Small readers for the JSON the API answers.</summary>
internal static class Json
{
    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;

    /// <summary>A member as JSON text: payloads (inputs, results, journal payloads) come as JSON values.</summary>
    public static string Raw(this JsonElement element, string name) => element.GetProperty(name).GetRawText();

    public static JsonElement[] Items(this JsonElement element) => [.. element.EnumerateArray()];

    public static JsonElement[] Runs(this JsonElement page) => page.GetProperty("runs").Items();
}
