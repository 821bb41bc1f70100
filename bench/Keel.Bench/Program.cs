using System.Globalization;
using System.Text.Json.Nodes;
using Keel.Sqlite;

namespace Keel.Bench;

/// <summary>
/// Keel benchmark workloads (see the shared BENCHMARKS.md and bench/README.md).
/// The last line printed is one JSON object with the figures; everything before it is progress.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: Keel.Bench w1|w2|w3|w4|w5|w6|w7 [--store sqlite|postgres] [--durability full|normal] [--postgres CONNSTR] [--workers N] [--data-dir DIR] [--aot (w4)] [--kills N] [--batch N] [--seed N] [--trace-blame] (w7)");
            return args.Length == 0 ? 2 : 0;
        }
        var options = BenchOptions.Parse(args[1..]);
        var workload = args[0].ToLowerInvariant();

        // Child-process roles (the bench spawns itself for the crash workloads).
        switch (workload)
        {
            case "w3-worker":
                return await W3.WorkerAsync(options);
            case "w4-worker":
                return await W4.WorkerAsync(options);
            case "w2-worker":
                return await W2.WorkerAsync(options);
            case "w7-worker":
                return await W7.WorkerAsync(options);
            case "w6-worker":
                return await W6.WorkerAsync(options);
            default:
                break;
        }

        string? connectionString = null;
        if (string.Equals(options.Store, "postgres", StringComparison.Ordinal))
        {
            connectionString = BenchTarget.ResolveConnectionString(options);
            if (connectionString is null)
            {
                await Console.Error.WriteLineAsync(
                    "error: --store postgres needs a PostgreSQL server: pass --postgres CONNSTR, or set KEEL_POSTGRES or KEEL_TEST_POSTGRES. " +
                    "To start a throwaway one: `eng/postgres.sh start /tmp/pg.env && source /tmp/pg.env` (stop it with `eng/postgres.sh stop /tmp/pg.env`).");
                return 2;
            }
        }
        else if (!string.Equals(options.Store, "sqlite", StringComparison.Ordinal))
        {
            await Console.Error.WriteLineAsync($"error: unknown store '{options.Store}'; expected sqlite or postgres.");
            return 2;
        }

        var dataDir = options.DataDir ?? Path.Combine(Path.GetTempPath(), "keel-bench", $"{workload}-{Environment.ProcessId}");
        Directory.CreateDirectory(dataDir);
        // Postgres: a fresh schema per bench run, dropped at the end.
        var target = connectionString is not null
            ? BenchTarget.Postgres(connectionString, string.Create(CultureInfo.InvariantCulture, $"bench_{workload}_{Environment.ProcessId}"))
            : BenchTarget.Sqlite(Path.Combine(dataDir, $"{workload}.db"), options.Durability);
        var result = new JsonObject
        {
            ["workload"] = workload,
            ["store"] = options.Store,
            ["durability"] = target.DurabilityLabel,
        };
        var settings = new JsonObject
        {
            ["machine_cores"] = Environment.ProcessorCount,
            ["date_utc"] = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            // Dynamic PGO is off in this program's runtimeconfig (see Keel.Bench.csproj); DOTNET_TieredPGO overrides it.
            ["tiered_pgo"] = Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is { } pgo ? pgo != "0"
                : AppContext.GetData("System.Runtime.TieredPGO") is not (false or "false"),
            ["data_dir"] = dataDir,
            // Other work on the machine skews every figure: the 1-minute load average when the bench started.
            ["load_avg_1m"] = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture),
        };
        if (target.IsPostgres)
        {
            settings["durability_note"] = "--durability does not apply: the server's own settings (see postgres_fsync, postgres_synchronous_commit)";
            await target.DescribeAsync(settings);
        }
        try
        {
            switch (workload)
            {
                case "w1":
                    await W1.RunAsync(options, target, dataDir, result, settings);
                    break;
                case "w2":
                    await W2.RunAsync(options, target, dataDir, result, settings);
                    break;
                case "w3":
                    await W3.RunAsync(options, target, dataDir, result, settings);
                    break;
                case "w4":
                    await W4.RunAsync(options, target, dataDir, result, settings);
                    break;
                case "probe":
                    if (target.IsPostgres)
                    {
                        await Console.Error.WriteLineAsync("error: probe replays the SQLite store's statements; it has no PostgreSQL variant.");
                        return 2;
                    }
                    return await Probe.RunAsync(options, dataDir);
                case "w5":
                    await W5.RunAsync(options, target, result, settings);
                    break;
                case "w6":
                    await W6.RunAsync(options, target, dataDir, result, settings);
                    break;
                case "w7":
                    await W7.RunAsync(options, target, dataDir, result, settings);
                    break;
                default:
                    await Console.Error.WriteLineAsync($"error: unknown workload '{workload}'; expected w1, w2, w3, w4, w5, w6 or w7.");
                    return 2;
            }
        }
        finally
        {
            try
            {
                await target.DropAsync();
                await target.Sibling("floor").DropAsync();
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"warning: could not drop schema {target.Schema}: {ex.Message}");
            }
            if (options.DataDir is null && !options.KeepData)
            {
                try
                {
                    Directory.Delete(dataDir, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
        result["settings"] = settings;
        Console.WriteLine(result.ToJsonString());
        return 0;
    }
}

internal sealed class BenchOptions
{
    public string Store { get; private set; } = "sqlite";

    public SqliteDurability Durability { get; private set; } = SqliteDurability.Full;

    public string? DataDir { get; private set; }

    public bool KeepData { get; private set; }

    public string? Db { get; private set; }

    public string? Effects { get; private set; }

    /// <summary>W6: the chat-completions server's base address (a child's).</summary>
    public string? Endpoint { get; private set; }

    public string? Phase { get; private set; }

    public int? Runs { get; private set; }

    public int? Steps { get; private set; }

    public int? Repetitions { get; private set; }

    public int? Warmup { get; private set; }

    public string Wait { get; private set; } = "client";

    /// <summary>Npgsql connection string (--postgres); else KEEL_POSTGRES, else KEEL_TEST_POSTGRES.</summary>
    public string? Postgres { get; private set; }

    /// <summary>The Postgres schema of a child process (the parent makes a fresh one per bench run).</summary>
    public string? Schema { get; private set; }

    /// <summary>Worker processes (W2: 1 = in-process; N &gt; 1 = N child processes; W3 on Postgres: 2).</summary>
    public int? Workers { get; private set; }

    /// <summary>Lease duration of the children (W3 on Postgres), ms.</summary>
    public int? LeaseMs { get; private set; }

    /// <summary>A child's worker id (KeelOptions.WorkerId).</summary>
    public string? WorkerId { get; private set; }

    /// <summary>W7: SIGKILLs to do (default 300).</summary>
    public int? Kills { get; private set; }

    /// <summary>W7: runs per batch the driver starts (default 20).</summary>
    public int? Batch { get; private set; }

    /// <summary>W7: log every change of a run's blame (interrupted, held alone, charged), for diagnosis.</summary>
    public bool TraceBlame { get; private set; }

    /// <summary>W7: the chaos harness's seed (default: a new one, printed).</summary>
    public int? Seed { get; private set; }

    /// <summary>W4: also publish the native AOT worker (bench/Keel.Bench.AotWorker) and measure its resume.</summary>
    public bool Aot { get; private set; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--store":
                    o.Store = Next().ToLowerInvariant();
                    break;
                case "--durability":
                    o.Durability = Next().ToLowerInvariant() switch
                    {
                        "full" => SqliteDurability.Full,
                        "normal" => SqliteDurability.Normal,
                        var other => throw new ArgumentException($"--durability must be full or normal, not '{other}'"),
                    };
                    break;
                case "--data-dir":
                    o.DataDir = Next();
                    break;
                case "--keep-data":
                    o.KeepData = true;
                    break;
                case "--db":
                    o.Db = Next();
                    break;
                case "--effects":
                    o.Effects = Next();
                    break;
                case "--endpoint":
                    o.Endpoint = Next();
                    break;
                case "--phase":
                    o.Phase = Next();
                    break;
                case "--runs":
                    o.Runs = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--steps":
                    o.Steps = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--repetitions":
                    o.Repetitions = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--warmup":
                    o.Warmup = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--wait":
                    o.Wait = Next().ToLowerInvariant();
                    break;
                case "--postgres":
                    o.Postgres = Next();
                    break;
                case "--schema":
                    o.Schema = Next();
                    break;
                case "--workers":
                    o.Workers = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--lease-ms":
                    o.LeaseMs = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--worker-id":
                    o.WorkerId = Next();
                    break;
                case "--aot":
                    o.Aot = true;
                    break;
                case "--kills":
                    o.Kills = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--trace-blame":
                    o.TraceBlame = true;
                    break;
                case "--batch":
                    o.Batch = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    o.Seed = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}'");
            }
        }
        return o;
    }

    public string DurabilityArg => Durability == SqliteDurability.Full ? "full" : "normal";
}
