using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// A slot a worker set aside for a run that a client of its process creates held by the worker (eager start). The
/// client creates the run with <see cref="Owner"/> and <see cref="LeaseExpiresAt"/>, then hands it to the worker with
/// <see cref="StartAsync"/>, or gives the slot back with <see cref="Cancel"/> when the run was not created held (its id
/// existed, or the store does not support it). Exactly one of the two takes effect.
/// </summary>
internal sealed class EagerStart(KeelWorker worker, DateTimeOffset leaseExpiresAt)
{
    private int _done;

    /// <summary>The worker's owner id: the new run's lease holder.</summary>
    public string Owner => worker.Owner;

    /// <summary>The worker's build: the one the new run starts on.</summary>
    public string? BuildId => worker.BuildId;

    /// <summary>When the new run's lease expires unless renewed.</summary>
    public DateTimeOffset LeaseExpiresAt => leaseExpiresAt;

    /// <summary>Executes the run created held by <see cref="Owner"/>.</summary>
    public Task StartAsync(ClaimedRun run) => Interlocked.Exchange(ref _done, 1) == 0 ? worker.StartReservedAsync(run, leaseExpiresAt) : Task.CompletedTask;

    /// <summary>Gives the slot back.</summary>
    public void Cancel()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            worker.ReleaseReservation();
        }
    }
}
