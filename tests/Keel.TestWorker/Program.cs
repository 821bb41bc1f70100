using Keel;
using Keel.TestWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: Keel.TestWorker --db PATH --effects FILE
var db = Arg("--db") ?? throw new ArgumentException("--db is required");
var effects = Arg("--effects") ?? throw new ArgumentException("--effects is required");

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton(new EffectLog(effects));
builder.Services.AddKeel(k => k
    .UseSqlite(db)
    .AddWorkflow<CrashFlow>()
    .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(20)));
using var host = builder.Build();
await host.RunAsync();

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
