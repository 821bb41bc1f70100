using System.Diagnostics;

namespace Keel.Testing;

/// <summary>What <see cref="ChaosHarness.RunAsync"/> runs, how hard it interferes, and how it judges the outcome.</summary>
public sealed record ChaosOptions
{
    /// <summary>A client over the store the workers use: the workload and the operator act through it, and the
    /// invariants are checked from the runs and journals it reads.</summary>
    public required KeelClient Client { get; init; }

    /// <summary>How many worker processes run at once (one is interfered with at a time).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>
    /// The worker process for a worker index (0 to <see cref="Workers"/> − 1); called again for each restart. The harness
    /// redirects its output and sets <see cref="BodyLedger.DirectoryVariable"/> in its environment: the worker must attach a
    /// <see cref="BodyLedger"/> on <see cref="LedgerDirectory"/> (<see cref="BodyLedger.AttachFromEnvironment"/>, or an
    /// argument of its own).
    /// </summary>
    public required Func<int, ProcessStartInfo> StartWorker { get; init; }

    /// <summary>The directory of the workers' <see cref="BodyLedger"/> files (created if missing; should start empty).</summary>
    public required string LedgerDirectory { get; init; }

    /// <summary>
    /// The workload driver, run beside the interference: it starts runs and sends their signals and approvals through
    /// <see cref="ChaosWorkloadContext.Client"/>. It may go on starting runs while <see cref="ChaosWorkloadContext.IsChaosRunning"/>
    /// is true, and should return once its runs no longer need it (the harness waits for it, at most for
    /// <see cref="SettleTimeout"/> after the interference ended, then cancels its token).
    /// </summary>
    public required Func<ChaosWorkloadContext, Task> Workload { get; init; }

    /// <summary>SIGKILLs to do (each of a random worker, restarted at once). 0 for none.</summary>
    public int Kills { get; init; }

    /// <summary>The shortest time between two interferences (kills or stops).</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest time between two interferences.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <summary>SIGSTOPs to do (each of a random worker, for <see cref="StopFor"/>, then SIGCONT), mixed in among the kills.</summary>
    public int Stops { get; init; }

    /// <summary>How long a stopped worker stays stopped: longer than its lease, so that another worker takes its runs over.</summary>
    public TimeSpan StopFor { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The operator: called for each run found NeedsAttention, with what it waits on; returns the decision to send
    /// (<see cref="StepResolution.CompleteWith"/>, <see cref="StepResolution.Retry"/>, ...) or null to leave it for now.
    /// Null: nobody settles such runs (they count as never ended).
    /// </summary>
    public Func<AttentionCase, CancellationToken, Task<StepResolution?>>? Operator { get; init; }

    /// <summary>How often the operator looks for runs that need attention.</summary>
    public TimeSpan OperatorInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs that are meant to be quarantined (poison). Any other run that ends Blocked is a violation, and so is
    /// one of these that ends otherwise. Null: no run is poison.</summary>
    public Func<RunInfo, bool>? IsExpectedPoison { get; init; }

    /// <summary>Whether a worker that exits on its own (a crash, <see cref="Environment.FailFast(string)"/>) is expected;
    /// it is restarted at once either way, and it is a violation when not expected.</summary>
    public bool AllowWorkerExits { get; init; }

    /// <summary>After the interference: how long the runs have to end (Completed, Failed, Cancelled or Blocked).</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The seed of the harness's random choices (intervals, workers); null for a new one (printed to <see cref="Log"/>
    /// and kept in the report, so a failing sequence can be replayed).</summary>
    public int? Seed { get; init; }

    /// <summary>Progress lines (kills, stops, restarts, settling); null for none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Each line a worker writes (worker index, pid, line); null to drop them. The last lines of a worker that
    /// exits on its own are logged anyway.</summary>
    public Action<int, int, string>? WorkerOutput { get; init; }
}
