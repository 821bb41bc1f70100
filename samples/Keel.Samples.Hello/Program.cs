using Keel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddKeel(k => k.UseSqlite("hello.db").AddWorkflow<Onboarding>());
using var host = builder.Build();
await host.StartAsync();

var keel = host.Services.GetRequiredService<KeelClient>();
var run = await keel.StartAsync("onboarding", new Signup("ada@example.com"), new() { RunId = "signup-ada" });
Console.WriteLine(await keel.GetResultAsync<string>(run.RunId));
await host.StopAsync();

[Workflow("onboarding")]
public sealed class Onboarding : Workflow<Signup, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, Signup input)
    {
        var account = await context.StepAsync("create-account", _ => Task.FromResult($"acct-{input.Email}"));
        var sent = await context.StepAsync("send-welcome", step => step.Attempt < 2
            ? throw new HttpRequestException("mail server busy")          // retried, durably
            : Task.FromResult($"welcome mail sent on attempt {step.Attempt}"),
            new() { Retry = new() { MaxAttempts = 5, InitialDelay = TimeSpan.FromMilliseconds(200) } });
        return $"{account}: {sent}";
    }
}

public sealed record Signup(string Email);
