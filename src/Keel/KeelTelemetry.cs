using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Keel;

/// <summary>
/// The names under which Keel emits spans and metrics. Metrics carry the tags <c>keel.workflow</c>, and for steps
/// <c>keel.step</c> (a name ending in a hash, as Keel.AI's <c>chat 3f2a…</c>, without it), <c>keel.step.effect</c> and
/// <c>keel.step.outcome</c>; durations are in seconds, in buckets from a millisecond to a day.
/// </summary>
public static class KeelTelemetry
{
    /// <summary>The name of Keel's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Name = "Keel";

    private static readonly string? Version = typeof(KeelTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    /// <summary>Seconds, from a millisecond (a step that only computes) to a day (a run that waits for people).</summary>
    internal static readonly IReadOnlyList<double> DurationBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400];

    internal static readonly Histogram<double> WorkflowDuration = Meter.CreateHistogram("keel.workflow.duration", "s",
        "Time from a run's start to its end (tags: workflow, status).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    internal static readonly Histogram<double> StepDuration = Meter.CreateHistogram("keel.step.duration", "s",
        "Time one step attempt took (tags: workflow, step, effect, outcome).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    internal static readonly Counter<long> StepRetries =
        Meter.CreateCounter<long>("keel.step.retries", description: "Step attempts that failed and were scheduled again (tags: workflow, step).");

    internal static readonly Counter<long> StepFailures =
        Meter.CreateCounter<long>("keel.step.failures", description: "Steps that failed for good: retries exhausted or a terminal error (tags: workflow, step, effect).");

    internal static readonly Counter<long> RunsEnded =
        Meter.CreateCounter<long>("keel.workflow.ended", description: "Runs that ended (tags: workflow, status: Completed, Failed, Cancelled).");

    internal static readonly Counter<long> RunsStopped = Meter.CreateCounter<long>("keel.workflow.stopped",
        description: "Runs that stopped for a person (tags: workflow, status: NeedsAttention for an unknown outcome or unmet precondition, Blocked for a quarantine).");

    internal static readonly Counter<long> ApprovalsRequested =
        Meter.CreateCounter<long>("keel.approval.requested", description: "Approvals a run asked a person for (tags: workflow).");

    internal static readonly UpDownCounter<long> ActiveRuns =
        Meter.CreateUpDownCounter<long>("keel.worker.active_runs", description: "Runs held in memory by this process.");

    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The current span as a W3C <c>traceparent</c>, to journal with a run it starts; null without one.</summary>
    internal static string? CurrentTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The span a run's resume continues: the trace its start belonged to.</summary>
    internal static ActivityContext ParentOf(RunInfo run) =>
        run.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;

    /// <summary>A step's name as a tag: bounded, so a name that ends in a hash (one per prompt) loses the hash.</summary>
    internal static string StepTag(string step)
    {
        var space = step.LastIndexOf(' ');
        return space > 0 && step.Length - space - 1 >= 8 && !step.AsSpan(space + 1).ContainsAnyExcept(s_hex)
            ? step[..space]
            : step;
    }
}
