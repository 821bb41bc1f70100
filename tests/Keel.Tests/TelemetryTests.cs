using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Keel.Tests;

public class TelemetryTests
{
    [Fact]
    public async Task Run_EmitsWorkflowAndStepSpansAndMetrics()
    {
        using var db = new TempDatabase();
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KeelTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var measurements = new ConcurrentBag<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KeelTelemetry.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<double>((instrument, _, _, _) => measurements.Add(instrument.Name));
        meters.SetMeasurementEventCallback<long>((instrument, _, _, _) => measurements.Add(instrument.Name));
        meters.Start();

        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("traced", async (ctx, n) =>
            await ctx.StepAsync("work", sc => sc.Attempt == 1 ? throw new InvalidOperationException("once") : Task.FromResult(n),
                new StepOptions { Retry = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(1) } })));
        var run = await keel.Client.StartAsync("traced", 3, cancellationToken: TestHost.Token);
        await keel.Client.GetResultAsync<int>(run.RunId, TestHost.Token);
        await TestHost.EventuallyAsync(() => Task.FromResult(spans.Any(s => s.DisplayName == "workflow traced")), "the workflow span ends");

        var steps = spans.Where(s => s.DisplayName == "step work" && (string?)s.GetTagItem("keel.workflow.id") == run.RunId).ToList();
        Assert.Equal(2, steps.Count);
        Assert.Contains(steps, s => s.Status == ActivityStatusCode.Error);
        Assert.All(steps, s => Assert.Equal("work", s.GetTagItem("keel.step.name")));
        Assert.Contains("keel.step.duration", measurements);
        Assert.Contains("keel.step.retries", measurements);
        Assert.Contains("keel.workflow.duration", measurements);
    }
}
