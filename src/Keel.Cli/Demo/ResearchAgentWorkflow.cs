namespace Keel.Cli.Demo;

/// <summary>
/// The demo agent: plan three tool calls, run each as its own durable step, then summarize. A crash at any point
/// resumes here from the journal: finished steps return their recorded results without running again.
/// </summary>
[Workflow(Name)]
internal sealed class ResearchAgentWorkflow(DemoTools tools) : Workflow<ResearchRequest, ResearchReport>
{
    public const string Name = "research-agent";

    /// <summary>Short delays so the demo's retries take well under a second each.</summary>
    public static RetryPolicy ToolRetry { get; } = new()
    {
        MaxAttempts = 4,
        InitialDelay = TimeSpan.FromMilliseconds(300),
        BackoffCoefficient = 2,
        MaxDelay = TimeSpan.FromSeconds(2),
    };

    public override async Task<ResearchReport> RunAsync(WorkflowContext context, ResearchRequest input)
    {
        var options = new StepOptions { Retry = ToolRetry };
        var plan = await context.StepAsync("plan", step => tools.PlanAsync(step, input), options);
        var results = new List<ToolResult>();
        foreach (var call in plan)
        {
            results.Add(await context.StepAsync($"tool:{call.Tool}", step => tools.RunToolAsync(step, call), options));
        }
        return await context.StepAsync("summarize", step => tools.SummarizeAsync(step, input, results), options);
    }
}
