using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Keel;
using Keel.Bench;
using Keel.Postgres;
using Keel.Sqlite;

// W4's resume in a native AOT process: `--db PATH [--durability full|normal]` or `--postgres CONNSTR --schema NAME`.
// Prints the same lines as the JIT worker (HOST_STARTED, STORE ..., INVOKED, CPU, HANG) and waits for "stop" on stdin
// (or SIGKILL).
string? db = null;
string? postgres = null;
string? schema = null;
var durability = SqliteDurability.Full;
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--db":
            db = args[++i];
            break;
        case "--store":
            i++; // implied by --db or --postgres (the bench passes its child arguments as they are)
            break;
        case "--postgres":
            postgres = args[++i];
            break;
        case "--schema":
            schema = args[++i];
            break;
        case "--durability":
            durability = args[++i] == "normal" ? SqliteDurability.Normal : SqliteDurability.Full;
            break;
        default:
            break;
    }
}
if (db is null && (postgres is null || schema is null))
{
    await Console.Error.WriteLineAsync("usage: Keel.Bench.AotWorker --db PATH [--durability full|normal] | --postgres CONNSTR --schema NAME");
    return 2;
}
W4Workflow.Report = true;
using (var self = Process.GetCurrentProcess())
{
    W4Workflow.CpuAtStart = self.TotalProcessorTime;
}
W4Workflow.Clock.Restart();
await using var keel = await W4Workflow.StartWorkerAsync(
    () => db is not null
        ? new SqliteWorkflowStore(new SqliteStoreOptions { Path = db, Durability = durability })
        : new PostgresWorkflowStore(new PostgresStoreOptions { ConnectionString = postgres!, Schema = schema! }),
    TimeSpan.FromSeconds(10),
    // No reflection in a native AOT app: the workflow's types come from a source-generated context, Keel's own from its.
    o => o.SerializerOptions = new JsonSerializerOptions(KeelJson.Default)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(W4JsonContext.Default, KeelJson.Default.TypeInfoResolver),
    });
while (await Console.In.ReadLineAsync() is { } line && line != "stop")
{
}
await keel.StopAsync();
return 0;

/// <summary>The W4 workflow's input and result (and its steps' values).</summary>
[JsonSerializable(typeof(int))]
internal sealed partial class W4JsonContext : JsonSerializerContext;
