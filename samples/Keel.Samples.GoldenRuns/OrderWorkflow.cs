namespace Keel.Samples.GoldenRuns;

/// <summary>The order the app places.</summary>
public sealed record Order(string Id, decimal Amount, bool Express);

/// <summary>
/// The app's workflow, as it is now. Its fraud check for large orders was inserted behind
/// <see cref="WorkflowContext.Patched"/>, so runs that were in flight before it replay on their old path.
/// </summary>
[Workflow("order")]
public sealed class OrderWorkflow : Workflow<Order, string>
{
    /// <inheritdoc />
    public override async Task<string> RunAsync(WorkflowContext context, Order input)
    {
        var reserved = await context.StepAsync("reserve-stock", _ => Task.FromResult($"stock for {input.Id}"));
        if (context.Patched("fraud-check") && input.Amount > 1000)
        {
            await context.StepAsync("fraud-check", _ => Task.FromResult("ok"));
        }
        var charged = await context.StepAsync("charge", step => Task.FromResult($"charged {input.Amount} (key {step.IdempotencyKey})"));
        if (input.Express)
        {
            await context.SleepAsync(TimeSpan.FromMilliseconds(50), "express-slot");
        }
        var shipped = await context.StepAsync("ship", _ => Task.FromResult(input.Express ? "express" : "standard"));
        return $"{reserved}; {charged}; {shipped}";
    }
}

/// <summary>The same workflow changed carelessly: 'charge' moved after 'ship' without a version check.</summary>
[Workflow("order")]
public sealed class CarelessOrderWorkflow : Workflow<Order, string>
{
    /// <inheritdoc />
    public override async Task<string> RunAsync(WorkflowContext context, Order input)
    {
        await context.StepAsync("reserve-stock", _ => Task.FromResult($"stock for {input.Id}"));
        if (context.Patched("fraud-check") && input.Amount > 1000)
        {
            await context.StepAsync("fraud-check", _ => Task.FromResult("ok"));
        }
        if (input.Express)
        {
            await context.SleepAsync(TimeSpan.FromMilliseconds(50), "express-slot");
        }
        await context.StepAsync("ship", _ => Task.FromResult("shipped"));
        return await context.StepAsync("charge", _ => Task.FromResult("charged"));
    }
}
