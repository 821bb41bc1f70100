namespace Keel.Cli.Demo;

/// <summary>
/// The demo agent: plan three tool calls, run each as its own durable step, summarize, then ask a person before it
/// publishes the report. A crash at any point resumes here from the journal: finished steps return their recorded
/// results without running again, and the run waits for the approval without holding memory.
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
        var report = await context.StepAsync("summarize", step => tools.SummarizeAsync(step, input, results), options);

        // Publishing acts on the world: a person approves it first, and may change where it goes.
        var decision = await context.RequestApprovalAsync(new ApprovalRequest<PublishReport>
        {
            Name = "publish",
            Title = "Publish the research report",
            Details = report.Summary,
            Action = "publish-report",
            Arguments = new PublishReport("#eng-decisions", "Vector database recommendation: vendor B"),
        });
        var said = $"{decision.Outcome.ToString().ToLowerInvariant()} by {decision.DecidedBy ?? "nobody"}" +
                   (decision.Comment is { } comment ? $": {comment}" : "");
        if (!decision.IsApproved)
        {
            return report with { Decision = said };
        }
        var channel = await context.StepAsync("publish-report", step => tools.PublishAsync(step, decision.Arguments), options);
        return report with { PublishedTo = channel, Decision = said };
    }
}
