namespace Keel;

/// <summary>Event ids of Keel's log messages, by range: 1000s engine, 2000s storage, 4000s hosting, 5000s CLI.</summary>
public static class KeelEventId
{
    /// <summary>A run was claimed and is executing.</summary>
    public const int RunClaimed = 1001;

    /// <summary>A run completed.</summary>
    public const int RunCompleted = 1002;

    /// <summary>A run failed.</summary>
    public const int RunFailed = 1003;

    /// <summary>A step attempt failed and will be retried.</summary>
    public const int StepRetrying = 1004;

    /// <summary>A run was blocked by nondeterminism.</summary>
    public const int Nondeterminism = 1005;

    /// <summary>A run's recovery failed; it will be tried again.</summary>
    public const int RecoveryFailed = 1006;

    /// <summary>A run was quarantined after repeated recovery failures.</summary>
    public const int Quarantined = 1007;

    /// <summary>A worker lost a run's lease and dropped it.</summary>
    public const int LeaseLost = 1008;

    /// <summary>A run was cancelled.</summary>
    public const int RunCancelled = 1009;

    /// <summary>A run's lease may have lapsed (renewals behind, or the process was stopped): it starts no more work.</summary>
    public const int LeaseMayHaveLapsed = 1010;

    /// <summary>A run that a worker of another build blocked for nondeterminism was unblocked by this worker's build, once.</summary>
    public const int RetriedByBuild = 1011;

    /// <summary>A worker started.</summary>
    public const int WorkerStarted = 4001;

    /// <summary>A worker is stopping.</summary>
    public const int WorkerStopping = 4002;

    /// <summary>Leases of dead workers were freed.</summary>
    public const int DeadOwnersExpired = 4003;

    /// <summary>A worker loop failed and will go on.</summary>
    public const int WorkerLoopError = 4004;

    /// <summary>Finished runs past the retention age were purged.</summary>
    public const int RunsPurged = 4005;
}
