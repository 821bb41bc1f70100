using Microsoft.Extensions.Logging;

namespace Keel;

internal static partial class Log
{
    [LoggerMessage(EventId = KeelEventId.RunClaimed, Level = LogLevel.Debug, Message = "Run {RunId} ({Workflow}) claimed, epoch {Epoch}, {Entries} journal entries")]
    public static partial void RunClaimed(this ILogger logger, string runId, string workflow, long epoch, int entries);

    [LoggerMessage(EventId = KeelEventId.RunCompleted, Level = LogLevel.Information, Message = "Run {RunId} ({Workflow}) completed")]
    public static partial void RunCompleted(this ILogger logger, string runId, string workflow);

    [LoggerMessage(EventId = KeelEventId.RunFailed, Level = LogLevel.Warning, Message = "Run {RunId} ({Workflow}) failed: {Error}")]
    public static partial void RunFailed(this ILogger logger, string runId, string workflow, string error);

    [LoggerMessage(EventId = KeelEventId.StepRetrying, Level = LogLevel.Information, Message = "Run {RunId} step '{Step}' attempt {Attempt} failed ({Error}); next attempt at {RetryAt:o}")]
    public static partial void StepRetrying(this ILogger logger, string runId, string step, int attempt, string error, DateTimeOffset retryAt);

    [LoggerMessage(EventId = KeelEventId.Nondeterminism, Level = LogLevel.Error, Message = "{Message}")]
    public static partial void Nondeterminism(this ILogger logger, string message);

    [LoggerMessage(EventId = KeelEventId.RecoveryFailed, Level = LogLevel.Warning, Message = "Run {RunId} could not be resumed (attempt {Attempt} of {Max}); it will be tried again")]
    public static partial void RecoveryFailed(this ILogger logger, Exception exception, string runId, int attempt, int max);

    [LoggerMessage(EventId = KeelEventId.Quarantined, Level = LogLevel.Error, Message = "Run {RunId} quarantined as Blocked after {Attempts} recoveries without progress: {Error}")]
    public static partial void Quarantined(this ILogger logger, string runId, int attempts, string error);

    [LoggerMessage(EventId = KeelEventId.LeaseLost, Level = LogLevel.Warning, Message = "Run {RunId}: lease lost to another worker; dropped from this one")]
    public static partial void LeaseLost(this ILogger logger, string runId);

    [LoggerMessage(EventId = KeelEventId.LeaseMayHaveLapsed, Level = LogLevel.Warning, Message = "Run {RunId}: this worker's lease may have lapsed (it expires at {ExpiresAt:o}, and was not renewed in time); starting no more work for it and handing it back")]
    public static partial void LeaseMayHaveLapsed(this ILogger logger, string runId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = KeelEventId.RetriedByBuild, Level = LogLevel.Information, Message = "Run {RunId}: blocked for nondeterminism by build {BlockedBy}; unblocked once by this worker of build {Build}")]
    public static partial void RetriedByBuild(this ILogger logger, string runId, string blockedBy, string build);

    [LoggerMessage(EventId = KeelEventId.RunCancelled, Level = LogLevel.Information, Message = "Run {RunId} ({Workflow}) cancelled")]
    public static partial void RunCancelled(this ILogger logger, string runId, string workflow);

    [LoggerMessage(EventId = KeelEventId.WorkerStarted, Level = LogLevel.Information, Message = "Keel worker {Owner} started with {Count} workflow(s): {Workflows}")]
    public static partial void WorkerStarted(this ILogger logger, string owner, int count, string workflows);

    [LoggerMessage(EventId = KeelEventId.WorkerStopping, Level = LogLevel.Information, Message = "Keel worker {Owner} stopping; draining {Active} run(s)")]
    public static partial void WorkerStopping(this ILogger logger, string owner, int active);

    [LoggerMessage(EventId = KeelEventId.DeadOwnersExpired, Level = LogLevel.Information, Message = "Freed {Runs} run(s) held by dead worker(s) {Owners}")]
    public static partial void DeadOwnersExpired(this ILogger logger, int runs, string owners);

    [LoggerMessage(EventId = KeelEventId.RunsPurged, Level = LogLevel.Information, Message = "Purged {Count} finished run(s) that finished before {Before:o}")]
    public static partial void RunsPurged(this ILogger logger, int count, DateTimeOffset before);

    [LoggerMessage(EventId = KeelEventId.WorkerLoopError, Level = LogLevel.Error, Message = "Keel worker loop '{Loop}' failed; retrying")]
    public static partial void WorkerLoopError(this ILogger logger, Exception exception, string loop);
}
