using Keel;
using Keel.AI;
using Keel.AI.TestWorker;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: Keel.AI.TestWorker --db PATH --endpoint URL --tool-log FILE
var db = Arg("--db") ?? throw new ArgumentException("--db is required");
var endpoint = Arg("--endpoint") ?? throw new ArgumentException("--endpoint is required");
var toolLog = Arg("--tool-log") ?? throw new ArgumentException("--tool-log is required");

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton(new ToolLog(toolLog));
builder.Services.AddSingleton(new ChatClientBuilder(KeelChatClients.CreateOpenAI(new Uri(endpoint), "test-key", "gpt-test"))
    .UseKeel(configureFunctionInvocation: f => f.MaximumIterationsPerRequest = 1000)
    .Build());
builder.Services.AddKeel(k => k.UseSqlite(db).AddWorkflow<ToolLoopAgent>().Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(20)));
using var host = builder.Build();
await host.RunAsync();

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
