using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Keel;

/// <summary>The names under which Keel emits spans and metrics.</summary>
public static class KeelTelemetry
{
    /// <summary>The name of Keel's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Name = "Keel";

    private static readonly string? Version = typeof(KeelTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly Histogram<double> WorkflowDuration =
        Meter.CreateHistogram<double>("keel.workflow.duration", "s", "Time from a run's start to its end.");

    internal static readonly Histogram<double> StepDuration =
        Meter.CreateHistogram<double>("keel.step.duration", "s", "Time one step attempt took.");

    internal static readonly Counter<long> StepRetries =
        Meter.CreateCounter<long>("keel.step.retries", description: "Step attempts that failed and were scheduled again.");

    internal static readonly UpDownCounter<long> ActiveRuns =
        Meter.CreateUpDownCounter<long>("keel.worker.active_runs", description: "Runs held in memory by this process.");
}
