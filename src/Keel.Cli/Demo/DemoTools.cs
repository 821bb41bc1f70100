namespace Keel.Cli.Demo;

/// <summary>
/// The demo agent's step bodies: canned "LLM" and "tool" work that takes <see cref="DemoSettings.StepDelay"/> and
/// records each execution in the effects log before it returns (or throws).
/// </summary>
internal sealed class DemoTools(DemoSettings settings)
{
    public const int FullPage = 50;
    public const int ReducedPage = 20;

    public async Task<IReadOnlyList<ToolCall>> PlanAsync(StepContext step, ResearchRequest request)
    {
        await WorkAsync(step);
        return
        [
            new ToolCall("search-web", request.Question),
            new ToolCall("fetch-pricing", $"price list, {FullPage} rows per page"),
            new ToolCall("read-docs", "rate limits and SLAs"),
        ];
    }

    public Task<ToolResult> RunToolAsync(StepContext step, ToolCall call) => call.Tool switch
    {
        "search-web" => SearchWebAsync(step),
        "fetch-pricing" => FetchPricingAsync(step),
        "read-docs" => ReadDocsAsync(step),
        _ => throw new TerminalStepException($"The demo has no tool named '{call.Tool}'."),
    };

    public async Task<ResearchReport> SummarizeAsync(StepContext step, ResearchRequest request, IReadOnlyList<ToolResult> results)
    {
        await WorkAsync(step);
        return new ResearchReport(
            request.Question,
            "Vendor B fits best: cheapest per million vectors at this size, with a 99.9% SLA and rate limits that cover peak load.",
            [.. results.Select(r => $"{r.Tool}: {r.Output}")]);
    }

    public async Task<string> PublishAsync(StepContext step, PublishReport publish)
    {
        await WorkAsync(step);
        return publish.Channel;
    }

    private async Task<ToolResult> SearchWebAsync(StepContext step)
    {
        await WorkAsync(step);
        return new ToolResult("search-web", "found 3 candidate vendors (A, B, C) with public pricing");
    }

    /// <summary>
    /// Fails twice, then succeeds by learning from the failures: attempt 1 is rate limited (the server says when to
    /// come back), attempt 2 times out on a full page, and attempt 3 reads the journaled timeout and asks for less.
    /// </summary>
    private async Task<ToolResult> FetchPricingAsync(StepContext step)
    {
        await WorkAsync(step);
        var timedOutBefore = step.PreviousFailures.Any(f => f.Error.Type == typeof(TimeoutException).FullName);
        if (timedOutBefore)
        {
            var timedOut = step.PreviousFailures.Last(f => f.Error.Type == typeof(TimeoutException).FullName);
            return new ToolResult("fetch-pricing",
                $"fetched {ReducedPage} rows after reducing page size because attempt {timedOut.Attempt} timed out");
        }
        if (step.Attempt == 1)
        {
            throw new RetryableStepException("rate limited (429): retry after 300 ms", TimeSpan.FromMilliseconds(300));
        }
        throw new TimeoutException($"upstream timed out fetching {FullPage} rows");
    }

    private async Task<ToolResult> ReadDocsAsync(StepContext step)
    {
        await WorkAsync(step);
        return new ToolResult("read-docs", "all three vendors publish a 99.9% SLA; B allows 2,000 queries per second");
    }

    /// <summary>Does the step's "work", then records the execution before the body returns or throws.</summary>
    private async Task WorkAsync(StepContext step)
    {
        if (settings.HoldAt?.Matches(step) == true)
        {
            // A hung call: the body never finishes (nor logs an execution) in this worker, until it is killed or stopped.
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, step.CancellationToken);
        }
        await Task.Delay(settings.StepDelay, TimeProvider.System, step.CancellationToken);
        await EffectsLog.AppendAsync(settings.EffectsLogPath, step.RunId, step.StepName, step.Attempt, step.CancellationToken);
    }
}
