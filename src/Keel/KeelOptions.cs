using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Keel;

/// <summary>Settings of a Keel worker and client.</summary>
public sealed class KeelOptions : IValidatableObject
{
    /// <summary>Runs one worker executes at once (waiting runs are not held).</summary>
    [Range(1, 100_000)]
    public int MaxConcurrentRuns { get; set; } = 200;

    /// <summary>Step bodies one run executes at once (parallel branches beyond it wait their turn, in order).</summary>
    [Range(1, 10_000)]
    public int MaxParallelStepsPerRun { get; set; } = 32;

    /// <summary>How often an idle worker looks for work that another process made runnable.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a claim holds a run without renewal. A worker on another machine that dies holds its runs this long.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often leases are renewed and cancel requests picked up.</summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>On shutdown, how long in-flight step bodies may run on before they are cancelled.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A run whose every pending operation sleeps (a retry backoff, later timers) longer than this is released from
    /// memory and resumed by any worker when it is due.
    /// </summary>
    public TimeSpan ReleaseWaitsLongerThan { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Failed resumes after which a run is quarantined as Blocked, its last error kept: claims whose replay of the
    /// journal threw, or whose worker died before the replay finished. A worker killed while a step runs does not count.
    /// </summary>
    [Range(1, 1000)]
    public int MaxRecoveryAttempts { get; set; } = 5;

    /// <summary>
    /// Finished runs (Completed, Failed, Cancelled) older than this are deleted with their journals, in batches, by
    /// every worker. Null (the default) keeps them forever.
    /// </summary>
    public TimeSpan? RetainFinishedRunsFor { get; set; }

    /// <summary>How often a worker purges finished runs past <see cref="RetainFinishedRunsFor"/>.</summary>
    public TimeSpan RetentionPurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The retry policy of steps that set none.</summary>
    public RetryPolicy DefaultRetryPolicy { get; set; } = RetryPolicy.Default;

    /// <summary>Serializer settings for inputs, results and step outcomes.</summary>
    /// <remarks>Where reflection-based serialization is disabled (a native AOT app), put a <c>JsonSerializerContext</c> for your
    /// types first in the chain, e.g. <c>new JsonSerializerOptions(KeelJson.Default) { TypeInfoResolver =
    /// JsonTypeInfoResolver.Combine(MyJsonContext.Default, KeelJson.Default.TypeInfoResolver) }</c>: a worker checks at start
    /// that every registered workflow's input and result type has a contract.</remarks>
    public JsonSerializerOptions SerializerOptions { get; set; } = KeelJson.Default;

    /// <summary>
    /// Per-workflow limits on runs executing at once across all workers that share the store (by workflow name), so
    /// that a thousand started runs do not all call a rate-limited provider together: the rest wait, runnable, in
    /// priority order. Runs released while they wait (timers, signals, approvals) do not count. Every worker of a
    /// store should set the same limits. See <see cref="KeelBuilder.LimitConcurrency"/>.
    /// </summary>
    public Dictionary<string, int> ConcurrencyLimits { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Eager start (on by default): a run started by a client in a worker's own process, while that worker has a free
    /// slot, is created already held by it and executes at once, without a claim round trip or a wake-up of other
    /// workers. Its lease, renewal and failover are those of a claimed run: if the process dies, another worker takes
    /// the run over when the lease expires. Runs of workflows with a <see cref="ConcurrencyLimits">concurrency
    /// limit</see> always go through a claim, so the limit holds.
    /// </summary>
    public bool EagerStart { get; set; } = true;

    private static string? DefaultBuildId()
    {
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        return entry?.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                   .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
               ?? entry?.GetName().Version?.ToString();
    }

    /// <summary>
    /// Called right before each attempt of a step body runs (on the body's thread, after an AtMostOnce step's started
    /// record is committed), with the attempt's context: run, step, position, attempt, effect kind and idempotency key.
    /// For audits and test harnesses (Keel.Testing's <c>BodyLedger</c> keeps it in a file to check effects under SIGKILL).
    /// Keep it short; an exception it throws fails the attempt like one of the body's.
    /// </summary>
    public Action<StepContext>? StepStarting { get; set; }

    /// <summary>The largest inputs, payloads, results and error messages Keel stores (see <see cref="PayloadLimits"/>).</summary>
    public PayloadLimits Limits { get; } = new();

    /// <summary>
    /// The build of the code this worker runs, as it registers itself (<see cref="WorkerInfo.Build"/>); by default the
    /// entry assembly's informational version (or its version).
    /// </summary>
    public string? BuildId { get; set; } = DefaultBuildId();

    /// <summary>
    /// The builds whose runs this worker can replay, when not all can (null, the default: a worker takes over runs of any
    /// build, and versioning in the code — <see cref="WorkflowContext.GetVersion"/> — keeps old runs replayable). When
    /// set, the worker claims new runs, runs started on its own <see cref="BuildId"/> and runs started on these builds
    /// (<see cref="RunInfo.BuildId"/>); an entry ending in <c>*</c> matches every build that starts with what comes
    /// before it (<c>"1.4.*"</c>). Runs of other builds are left to workers that serve them.
    /// </summary>
    public IList<string>? ServesBuilds { get; set; }

    /// <summary>The builds a claim asks for (<see cref="Storage.ClaimRequest.ServesBuilds"/>): <see cref="ServesBuilds"/> and
    /// the worker's own build, or null for any.</summary>
    internal IReadOnlyCollection<string>? ClaimableBuilds() =>
        ServesBuilds is null ? null : [.. ServesBuilds.Append(BuildId).OfType<string>().Distinct(StringComparer.Ordinal)];

    /// <summary>Whether this worker can replay a run started on <paramref name="build"/> (see <see cref="ServesBuilds"/>).</summary>
    internal bool Serves(string? build) =>
        ClaimableBuilds() is not { } builds || build is null ||
        builds.Any(b => b.EndsWith('*') ? build.StartsWith(b[..^1], StringComparison.Ordinal) : b == build);

    /// <summary>
    /// A client without the workflow registered in its own process starts a run only of a workflow that a worker seen
    /// within this time serves (the worker registry; default 7 days), unless the start allows unknown workflows
    /// (<see cref="StartWorkflowOptions.AllowUnknownWorkflow"/>). Catches typos and workflows no deployment runs.
    /// </summary>
    public TimeSpan KnownWorkflowWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a worker runs before it takes a suspect run to run alone: a process still starting up (compiling, opening
    /// connections) would hold the suspect's window open longest, and in a crash loop it is the one most likely to be
    /// killed by whatever kills the others. 2 s by default.
    /// </summary>
    internal TimeSpan SuspectWarmup { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>This worker's owner id; null for one derived from machine, process and a random suffix.</summary>
    public string? WorkerId { get; set; }

    /// <summary>The rules between settings that a range cannot say (checked when the host starts).</summary>
    /// <param name="validationContext">Unused.</param>
    /// <returns>One result per broken rule, saying how to fix it.</returns>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"PollInterval must be positive (it is {PollInterval}).", [nameof(PollInterval)]);
        }
        if (LeaseDuration <= TimeSpan.Zero || LeaseRenewInterval <= TimeSpan.Zero || LeaseRenewInterval >= LeaseDuration)
        {
            // A renewal that comes after the lease expired loses every run the worker holds, over and over.
            yield return new ValidationResult($"LeaseRenewInterval ({LeaseRenewInterval}) must be positive and shorter than LeaseDuration " +
                                              $"({LeaseDuration}); a third of it or less leaves room for a slow renewal.",
                [nameof(LeaseRenewInterval), nameof(LeaseDuration)]);
        }
        if (DrainTimeout < TimeSpan.Zero || ReleaseWaitsLongerThan < TimeSpan.Zero)
        {
            yield return new ValidationResult("DrainTimeout and ReleaseWaitsLongerThan cannot be negative.", [nameof(DrainTimeout), nameof(ReleaseWaitsLongerThan)]);
        }
        if (RetainFinishedRunsFor is { } retain && retain <= TimeSpan.Zero || RetentionPurgeInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("RetainFinishedRunsFor (when set) and RetentionPurgeInterval must be positive.",
                [nameof(RetainFinishedRunsFor), nameof(RetentionPurgeInterval)]);
        }
        var limits = new List<ValidationResult>();
        Limits.Validate(limits);
        foreach (var result in limits)
        {
            yield return result;
        }
        foreach (var (workflow, limit) in ConcurrencyLimits.Where(l => l.Value < 1))
        {
            yield return new ValidationResult($"The concurrency limit of workflow '{workflow}' must be at least 1 (it is {limit}).", [nameof(ConcurrencyLimits)]);
        }
    }
}
