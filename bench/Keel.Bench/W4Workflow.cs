using System.Diagnostics;
using System.Globalization;

namespace Keel.Bench;

/// <summary>
/// W4's workflow, shared by the bench's own worker and the native AOT worker (bench/Keel.Bench.AotWorker), so both
/// resume the same journal: n steps, then a step that never returns. While <see cref="Report"/> is set it prints the
/// lines the W4 driver reads: INVOKED (workflow entered), CPU and HANG (the first live operation's body started).
/// </summary>
internal static class W4Workflow
{
    public const string Name = "w4";
    public const string RunId = "w4-run";

    /// <summary>Measured from the host's start.</summary>
    public static Stopwatch Clock { get; } = new();

    /// <summary>Whether this process prints timing lines (off while a warm-up run replays).</summary>
    public static bool Report { get; set; }

    /// <summary>This process's CPU time when the clock started.</summary>
    public static TimeSpan CpuAtStart { get; set; }

    /// <summary>Completed each time a run reaches the hanging step.</summary>
    public static TaskCompletionSource HangReached { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static KeelBuilder Add(KeelBuilder keel) => keel.AddWorkflow<int, int>(Name, async (ctx, n) =>
    {
        if (Report)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"INVOKED {Clock.Elapsed.TotalMilliseconds:F2} replaying={ctx.IsReplaying}"));
        }
        var sum = 0;
        for (var i = 1; i <= n; i++)
        {
            var index = i;
            sum += await ctx.StepAsync($"s{index}", _ => Task.FromResult(index));
            if (Report && !ctx.IsReplaying && index % 2000 == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STEP {index} at {Clock.Elapsed.TotalMilliseconds:F0} ms"));
            }
        }
        return sum + await ctx.StepAsync("hang", async sc =>
        {
            if (Report)
            {
                // CPU used by this process since the clock started: unlike wall time, not inflated by other load.
                using var self = Process.GetCurrentProcess();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU {(self.TotalProcessorTime - CpuAtStart).TotalMilliseconds:F2}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HANG {Clock.Elapsed.TotalMilliseconds:F2}"));
            }
            HangReached.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
            return 0;
        });
    });

    /// <summary>Starts the clock and a worker host on <paramref name="store"/>, timing its calls; prints HOST_STARTED.</summary>
    public static async Task<KeelHost> StartWorkerAsync(Func<Keel.Storage.IWorkflowStore> store, TimeSpan drain, Action<KeelOptions>? configure = null)
    {
        var host = await KeelHost.StartAsync(k => Add(k
            .UseStore(_ => new TimingStore(store(), Clock, line =>
            {
                if (Report)
                {
                    Console.WriteLine(line);
                }
            }))
            // Every bench restart claims the run without progress; keep it from being quarantined.
            .Configure(o =>
            {
                o.MaxRecoveryAttempts = 1000;
                o.DrainTimeout = drain;
                configure?.Invoke(o);
            })));
        if (Report)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HOST_STARTED {Clock.Elapsed.TotalMilliseconds:F2}"));
        }
        return host;
    }
}
