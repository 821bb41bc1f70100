using Keel;

namespace Keel.TestWorker;

public sealed record CrashFlowInput(int Steps, int Seed);

/// <summary>
/// Steps that take a little time and leave a side effect (a line in the effect log) before they return; each step's
/// result is the pid of the process whose execution was journaled.
/// </summary>
[Workflow("crash-flow")]
public sealed class CrashFlow(EffectLog effects) : Workflow<CrashFlowInput, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, CrashFlowInput input)
    {
        var total = 0;
        for (var i = 1; i <= input.Steps; i++)
        {
            var step = i;
            var pid = await context.StepAsync($"s{step}", async sc =>
            {
                var delay = 10 + (int)((uint)HashCode.Combine(input.Seed, step, sc.RunId) % 50);
                await Task.Delay(TimeSpan.FromMilliseconds(delay), TimeProvider.System, sc.CancellationToken);
                effects.Record(sc.RunId, sc.StepName);
                return Environment.ProcessId;
            });
            total += step + (pid > 0 ? 0 : 1000);
        }
        return $"sum={total}";
    }
}

/// <summary>One line per step body execution: run, step, pid. One write call per line.</summary>
public sealed class EffectLog(string path)
{
    private readonly Lock _lock = new();

    public void Record(string runId, string step)
    {
        lock (_lock)
        {
            File.AppendAllText(path, $"{runId} {step} {Environment.ProcessId}\n");
        }
    }
}

/// <summary>
/// Waits for <c>count</c> signals named "item", one at a time, and records each in a step: the result lists the
/// payloads in the order the workflow received them.
/// </summary>
[Workflow("signal-flow")]
public sealed class SignalFlow(EffectLog effects) : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int count)
    {
        var received = new List<int>();
        for (var i = 1; i <= count; i++)
        {
            var item = await context.WaitForSignalAsync<int>("item");
            received.Add(await context.StepAsync($"record-{i}", async sc =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5 + item % 20), TimeProvider.System, sc.CancellationToken);
                effects.Record(sc.RunId, sc.StepName);
                return item;
            }));
        }
        return string.Join(",", received);
    }
}
