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
        var tagged = new ConcurrentBag<(string Instrument, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KeelTelemetry.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Measured(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            measurements.Add(instrument.Name);
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }
            if (copy.TryGetValue("keel.workflow", out var workflow) && workflow is "traced" or "traced-doomed")
            {
                tagged.Add((instrument.Name, copy));
            }
        }
        meters.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Measured(instrument, tags));
        meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Measured(instrument, tags));
        meters.Start();

        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, int>("traced", async (ctx, n) =>
            await ctx.StepAsync("work", sc => sc.Attempt == 1 ? throw new InvalidOperationException("once") : Task.FromResult(n),
                new StepOptions { Retry = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(1) } }))
            .AddWorkflow<int, int>("traced-doomed", async (ctx, n) =>
                await ctx.StepAsync<int>("charge card 3f2a9c0b1d2e", _ => throw new InvalidOperationException("declined"),
                    new StepOptions { Retry = new RetryPolicy { MaxAttempts = 1 } })));
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

        // Tagged to drive dashboards and alerts: per workflow, step, effect and outcome.
        bool Has(string instrument, params (string Key, object Value)[] tags) =>
            tagged.Any(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)));
        foreach (var outcome in new[] { "failed", "completed" })
        {
            Assert.True(Has("keel.step.duration", ("keel.workflow", "traced"), ("keel.step", "work"), ("keel.step.effect", "Retryable"), ("keel.step.outcome", outcome)), outcome);
        }
        Assert.True(Has("keel.step.retries", ("keel.workflow", "traced"), ("keel.step", "work")));
        Assert.True(Has("keel.workflow.duration", ("keel.workflow", "traced"), ("keel.status", "Completed")));
        Assert.True(Has("keel.workflow.ended", ("keel.workflow", "traced"), ("keel.status", "Completed")));

        var doomed = await keel.Client.StartAsync("traced-doomed", 1, cancellationToken: TestHost.Token);
        Assert.Equal(RunStatus.Failed, (await keel.Client.WaitForCompletionAsync(doomed.RunId, TestHost.Token)).Status);
        Assert.True(Has("keel.step.failures", ("keel.workflow", "traced-doomed"), ("keel.step", "charge card"))); // the hash dropped
        Assert.True(Has("keel.workflow.ended", ("keel.workflow", "traced-doomed"), ("keel.status", "Failed")));
    }

    [Fact]
    public void Durations_HaveBucketsFromAMillisecondToADay_AndStepTagsStayBounded()
    {
        Assert.Equal(0.001, KeelTelemetry.DurationBuckets[0]);
        Assert.Equal(86400, KeelTelemetry.DurationBuckets[^1]);
        Assert.Equal(KeelTelemetry.DurationBuckets, KeelTelemetry.StepDuration.Advice?.HistogramBucketBoundaries);
        Assert.Equal(KeelTelemetry.DurationBuckets, KeelTelemetry.WorkflowDuration.Advice?.HistogramBucketBoundaries);
        Assert.Equal("chat", KeelTelemetry.StepTag("chat 3f2a9c0b1d2e"));
        Assert.Equal("charge card", KeelTelemetry.StepTag("charge card"));
        Assert.Equal("step deadbeef-x", KeelTelemetry.StepTag("step deadbeef-x"));
    }
}
