using Microsoft.Extensions.Configuration;

namespace Keel;

/// <summary>
/// <see cref="KeelOptions"/> read from configuration (<see cref="KeelBuilder.BindConfiguration"/>): the settings a
/// deployment changes, by their property names. Bound into <see cref="Settings"/> first, so only these keys are read
/// (code-only settings such as serializer options and callbacks have no configuration form) and a value that does not
/// convert is an error naming its key, not a silent default.
/// </summary>
internal static class KeelOptionsBinding
{
    public static void Bind(IConfigurationSection section, KeelOptions options)
    {
        // A key Keel does not know is a typo to report, not a setting to ignore (the stores read their own sub-sections).
        if (section.GetChildren().Select(c => c.Key).FirstOrDefault(k => !Keys.Contains(k)) is { } unknown)
        {
            throw new InvalidOperationException($"The configuration section '{section.Path}' has the key '{unknown}', which is not one of " +
                                                $"Keel's options: {string.Join(", ", Keys.Order(StringComparer.Ordinal))}.");
        }
        var settings = new Settings();
        try
        {
            section.Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"The configuration section '{section.Path}' does not fit Keel's options: {ex.Message}", ex);
        }
        options.MaxConcurrentRuns = settings.MaxConcurrentRuns ?? options.MaxConcurrentRuns;
        options.MaxParallelStepsPerRun = settings.MaxParallelStepsPerRun ?? options.MaxParallelStepsPerRun;
        options.PollInterval = settings.PollInterval ?? options.PollInterval;
        options.LeaseDuration = settings.LeaseDuration ?? options.LeaseDuration;
        options.LeaseRenewInterval = settings.LeaseRenewInterval ?? options.LeaseRenewInterval;
        options.DrainTimeout = settings.DrainTimeout ?? options.DrainTimeout;
        options.ReleaseWaitsLongerThan = settings.ReleaseWaitsLongerThan ?? options.ReleaseWaitsLongerThan;
        options.MaxRecoveryAttempts = settings.MaxRecoveryAttempts ?? options.MaxRecoveryAttempts;
        options.RetainFinishedRunsFor = settings.RetainFinishedRunsFor ?? options.RetainFinishedRunsFor;
        options.RetentionPurgeInterval = settings.RetentionPurgeInterval ?? options.RetentionPurgeInterval;
        options.EagerStart = settings.EagerStart ?? options.EagerStart;
        options.BuildId = settings.BuildId ?? options.BuildId;
        options.ServesBuilds = settings.ServesBuilds is { Count: > 0 } builds ? builds : options.ServesBuilds;
        options.KnownWorkflowWindow = settings.KnownWorkflowWindow ?? options.KnownWorkflowWindow;
        options.WorkerId = settings.WorkerId ?? options.WorkerId;
        foreach (var (workflow, limit) in settings.ConcurrencyLimits)
        {
            options.ConcurrencyLimits[workflow] = limit;
        }
        var limits = settings.Limits;
        options.Limits.MaxRunInputBytes = limits.MaxRunInputBytes ?? options.Limits.MaxRunInputBytes;
        options.Limits.MaxSignalPayloadBytes = limits.MaxSignalPayloadBytes ?? options.Limits.MaxSignalPayloadBytes;
        options.Limits.MaxApprovalArgumentsBytes = limits.MaxApprovalArgumentsBytes ?? options.Limits.MaxApprovalArgumentsBytes;
        options.Limits.MaxResultBytes = limits.MaxResultBytes ?? options.Limits.MaxResultBytes;
        options.Limits.MaxErrorMessageLength = limits.MaxErrorMessageLength ?? options.Limits.MaxErrorMessageLength;
    }

    /// <summary>The keys the section may have: the settings, and the stores' sub-sections.</summary>
    private static readonly HashSet<string> Keys = new(
        typeof(Settings).GetProperties().Select(p => p.Name).Concat(["Sqlite", "Postgres"]), StringComparer.OrdinalIgnoreCase);

    /// <summary>The keys of the section; null where the configuration says nothing.</summary>
    internal sealed class Settings
    {
        public int? MaxConcurrentRuns { get; set; }

        public int? MaxParallelStepsPerRun { get; set; }

        public TimeSpan? PollInterval { get; set; }

        public TimeSpan? LeaseDuration { get; set; }

        public TimeSpan? LeaseRenewInterval { get; set; }

        public TimeSpan? DrainTimeout { get; set; }

        public TimeSpan? ReleaseWaitsLongerThan { get; set; }

        public int? MaxRecoveryAttempts { get; set; }

        public TimeSpan? RetainFinishedRunsFor { get; set; }

        public TimeSpan? RetentionPurgeInterval { get; set; }

        public bool? EagerStart { get; set; }

        public string? BuildId { get; set; }

        public List<string> ServesBuilds { get; set; } = [];

        public TimeSpan? KnownWorkflowWindow { get; set; }

        public string? WorkerId { get; set; }

        public Dictionary<string, int> ConcurrencyLimits { get; set; } = new(StringComparer.Ordinal);

        public LimitSettings Limits { get; set; } = new();
    }

    /// <summary>The keys of <c>Limits</c> (<see cref="PayloadLimits"/>).</summary>
    internal sealed class LimitSettings
    {
        public int? MaxRunInputBytes { get; set; }

        public int? MaxSignalPayloadBytes { get; set; }

        public int? MaxApprovalArgumentsBytes { get; set; }

        public int? MaxResultBytes { get; set; }

        public int? MaxErrorMessageLength { get; set; }
    }
}
