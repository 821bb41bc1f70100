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

    [Fact]
    public async Task EveryResume_ContinuesTheTraceOfTheRunsStart_EvenInAnotherWorker()
    {
        using var db = new TempDatabase();
        var caller = new ActivitySource("keel-trace-test-" + Guid.NewGuid().ToString("N"));
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KeelTelemetry.Name || source.Name == caller.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        void Workflows(KeelBuilder k) => k.AddWorkflow<int, int>("traced-resume", async (ctx, n) =>
        {
            var first = await ctx.StepAsync("before", _ => Task.FromResult(n));
            var more = await ctx.WaitForSignalAsync<int>("more"); // released: the run leaves memory
            return await ctx.StepAsync("after", _ => Task.FromResult(first + more));
        });

        string runId;
        ActivityContext start;
        await using (var keel = await TestHost.StartAsync(db, Workflows))
        {
            using (var request = caller.StartActivity("POST /orders"))
            {
                start = request!.Context;
                runId = (await keel.Client.StartAsync("traced-resume", 1, cancellationToken: TestHost.Token)).RunId;
            }
            Assert.Equal(start.TraceId.ToHexString() + "-" + start.SpanId.ToHexString(),
                string.Join('-', (await keel.Client.GetRunAsync(runId, TestHost.Token))!.TraceParent!.Split('-')[1..3]));
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");
        }
        await using (var other = await TestHost.StartAsync(db, Workflows)) // a restart: another worker takes it up
        {
            await other.Client.SignalAsync(runId, "more", 2, TestHost.Token);
            Assert.Equal(3, await other.Client.GetResultAsync<int>(runId, TestHost.Token));
        }

        var workflowSpans = spans.Where(s => s.DisplayName == "workflow traced-resume" && (string?)s.GetTagItem("keel.workflow.id") == runId).ToList();
        Assert.True(workflowSpans.Count >= 2, $"{workflowSpans.Count} workflow span(s)");
        Assert.All(workflowSpans, s => Assert.Equal((start.TraceId, start.SpanId), (s.TraceId, s.ParentSpanId)));
        var steps = spans.Where(s => s.DisplayName is "step before" or "step after" && (string?)s.GetTagItem("keel.workflow.id") == runId).ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, s => Assert.Equal(start.TraceId, s.TraceId));
    }
}
