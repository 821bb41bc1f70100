using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Keel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Usage: Keel.Samples.NativeAot [--db PATH | --postgres CONNSTR [--schema NAME]] [--start RUN_ID]
// Runs a worker on SQLite (default refunds.db) or PostgreSQL; with --start, also starts a refund run. Prints
// "RESULT <json>" when the run (the started one, or "refund-1") completes, then exits.
var db = "refunds.db";
string? postgres = null;
var schema = "keel";
var runId = "refund-1";
var start = false;
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--db":
            db = args[++i];
            break;
        case "--postgres":
            postgres = args[++i];
            break;
        case "--schema":
            schema = args[++i];
            break;
        case "--start":
            runId = args[++i];
            start = true;
            break;
        default:
            break;
    }
}

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Services.AddKeel(k => (postgres is null ? k.UseSqlite(db) : k.UsePostgres(postgres, o => o.Schema = schema))
    .AddWorkflow<Refund>()
    // No reflection in a native AOT app: your types come from a source-generated context, Keel's own records from its.
    .Configure(o => o.SerializerOptions = new JsonSerializerOptions(KeelJson.Default)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(SampleJson.Default, KeelJson.Default.TypeInfoResolver),
    }));
using var host = builder.Build();
await host.StartAsync();
var keel = host.Services.GetRequiredService<KeelClient>();
if (start)
{
    await keel.StartAsync("refund", new RefundRequest("order-7", 42.50m), new StartWorkflowOptions { RunId = runId });
}
Console.WriteLine("READY");
var result = await keel.GetResultAsync<RefundResult>(runId);
Console.WriteLine("RESULT " + JsonSerializer.Serialize(result, SampleJson.Default.RefundResult));
await host.StopAsync();

/// <summary>Looks the order up, waits for a person's approval (a signal), then refunds.</summary>
[Workflow("refund")]
public sealed class Refund : Workflow<RefundRequest, RefundResult>
{
    public override async Task<RefundResult> RunAsync(WorkflowContext context, RefundRequest input)
    {
        var order = await context.StepAsync("lookup", _ => Task.FromResult(new Order(input.OrderId, "ada@example.com", input.Amount)));
        var approval = await context.WaitForSignalAsync<Approval>("approve");
        var receipt = await context.StepAsync("refund", step => Task.FromResult($"rf-{order.Id}-{step.Attempt}"));
        return new RefundResult(order.Id, order.Amount, receipt, approval.By);
    }
}

public sealed record RefundRequest(string OrderId, decimal Amount);

public sealed record Order(string Id, string Customer, decimal Amount);

public sealed record Approval(string By);

public sealed record RefundResult(string OrderId, decimal Amount, string Receipt, string ApprovedBy);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RefundRequest))]
[JsonSerializable(typeof(RefundResult))]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(Approval))]
[JsonSerializable(typeof(string))]
internal sealed partial class SampleJson : JsonSerializerContext;
