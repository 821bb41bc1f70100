using Keel;

namespace Keel.TestWorker;

public sealed record FlakyFlowInput(int Steps, int Seed);

/// <summary>
/// Sequential short steps (5-15 ms) that fail transiently a quarter of the time and are retried 30 ms later, held in
/// memory: a worker stopped past its lease wakes up with retries due and outcomes to deliver, the two ways it could
/// start a body of a run another worker has taken over. The run never waits, so no worker hands it back.
/// </summary>
[Workflow("flaky-flow")]
public sealed class FlakyFlow : Workflow<FlakyFlowInput, int>
{
    private static readonly StepOptions Retried = new()
    {
        Retry = new RetryPolicy { MaxAttempts = 100, InitialDelay = TimeSpan.FromMilliseconds(30), BackoffCoefficient = 1.0 },
    };

    public override async Task<int> RunAsync(WorkflowContext context, FlakyFlowInput input)
    {
        var attempts = 0;
        for (var i = 1; i <= input.Steps; i++)
        {
            attempts += await context.StepAsync($"s{i}", async sc =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 15)), TimeProvider.System, sc.CancellationToken);
                if (Random.Shared.NextDouble() < 0.25)
                {
                    throw new InvalidOperationException($"transient failure of attempt {sc.Attempt}");
                }
                return sc.Attempt;
            }, Retried);
        }
        return attempts;
    }
}
