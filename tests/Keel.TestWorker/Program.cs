using System.Globalization;
using Keel;
using Keel.TestWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: Keel.TestWorker (--db PATH | --postgres CONNSTR [--schema NAME]) --effects FILE [--lease-ms N] [--poll-ms N] [--ledger FILE [--crash-after N]]
//        [--ledger-bodies DIR] [--outbox DIR] [--max-recovery N] [--max-runs N] [--log LEVEL]
// --ledger-bodies: the chaos harness's body ledger (else the directory in KEEL_BODY_LEDGER, if set); --outbox: where the
// chaos workflow's AtMostOnce step sends (default: beside --effects); --log: console logging at that level (default none).
var db = Arg("--db");
var postgres = Arg("--postgres");
var effects = Arg("--effects") ?? throw new ArgumentException("--effects is required");
if ((db is null) == (postgres is null))
{
    throw new ArgumentException("give exactly one of --db PATH (SQLite) or --postgres CONNSTR");
}
var leaseMs = Arg("--lease-ms") is { } lease ? int.Parse(lease, CultureInfo.InvariantCulture) : (int?)null;
var pollMs = Arg("--poll-ms") is { } poll ? int.Parse(poll, CultureInfo.InvariantCulture) : 20;
// --crash-after N: the crash harness's point (right after the append of the N-th journal entry); the store announces it
// and hangs there, for the parent to SIGKILL us.
var crashAfter = Arg("--crash-after") is { } crash ? int.Parse(crash, CultureInfo.InvariantCulture) : (int?)null;
var ledger = Arg("--ledger");
var ledgerBodies = Arg("--ledger-bodies");
var outbox = Arg("--outbox") ?? Path.GetDirectoryName(Path.GetFullPath(effects))!;
var maxRecovery = Arg("--max-recovery") is { } max ? int.Parse(max, CultureInfo.InvariantCulture) : (int?)null;
var maxRuns = Arg("--max-runs") is { } runs ? int.Parse(runs, CultureInfo.InvariantCulture) : (int?)null;

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
if (Arg("--log") is { } level)
{
    builder.Logging.AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss.fff ").SetMinimumLevel(Enum.Parse<LogLevel>(level, ignoreCase: true));
}
builder.Services.AddSingleton(new EffectLog(effects));
builder.Services.AddKeel(k =>
{
    if (postgres is not null)
    {
        k.UsePostgres(postgres, o => o.Schema = Arg("--schema") ?? o.Schema);
    }
    else if (crashAfter is { } point)
    {
        k.UseStore(_ => new Keel.Testing.CrashPointStore(new Keel.Sqlite.SqliteWorkflowStore(new Keel.Sqlite.SqliteStoreOptions { Path = db! }), point,
            Keel.Testing.CrashMode.AnnounceAndHang));
    }
    else
    {
        k.UseSqlite(db!);
    }
    if (ledger is not null)
    {
        HarnessFlow.Register(k, new EffectLedger(ledger, Keel.Testing.HarnessProcess.Immortal));
    }
    if (ledgerBodies is not null)
    {
        Keel.Testing.BodyLedger.Attach(k, ledgerBodies);
    }
    else
    {
        Keel.Testing.BodyLedger.AttachFromEnvironment(k);
    }
    ChaosFlow.Register(k, new Outbox(outbox));
    PoisonFlows.Register(k);
    k.AddWorkflow<CrashFlow>().AddWorkflow<SignalFlow>().AddWorkflow<FlakyFlow>().Configure(o =>
    {
        o.PollInterval = TimeSpan.FromMilliseconds(pollMs);
        if (maxRecovery is { } attempts)
        {
            o.MaxRecoveryAttempts = attempts;
        }
        if (maxRuns is { } held)
        {
            o.MaxConcurrentRuns = held;
        }
        if (leaseMs is { } ms)
        {
            o.LeaseDuration = TimeSpan.FromMilliseconds(ms);
            o.LeaseRenewInterval = TimeSpan.FromMilliseconds(ms / 4);
        }
    });
});
using var host = builder.Build();
await host.RunAsync();

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
