namespace Keel.Engine;

/// <summary>
/// Holds back new step bodies of a worker's other runs while it runs a suspect alone, so that a death of the process
/// in that time is, as far as can be told, the suspect's own: an outside kill then lands on the suspect only while its
/// own short window is open, not whenever the busy process happened to be doing other work. Bodies already in flight go
/// on. The hold ends when the suspect stops being one, or after <see cref="MaxHold"/> at most (a suspect with a long
/// step holds the rest of the worker back no longer than that).
/// </summary>
internal sealed class AloneGate(TimeProvider pacing)
{
    /// <summary>The longest the other runs wait for one suspect.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(5);

    private TaskCompletionSource? _closed;

    /// <summary>Holds back new bodies of other runs until <see cref="Open"/> (or <see cref="MaxHold"/>).</summary>
    public void Close()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _closed, gate, null) is null)
        {
            _ = OpenLaterAsync(gate);
        }
    }

    /// <summary>Lets the other runs' bodies start again.</summary>
    public void Open() => Interlocked.Exchange(ref _closed, null)?.TrySetResult();

    /// <summary>Completes at once while open; otherwise when the gate opens.</summary>
    public Task WaitOpenAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _closed) is { } gate ? gate.Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    private async Task OpenLaterAsync(TaskCompletionSource gate)
    {
        await Task.Delay(MaxHold, pacing, CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.CompareExchange(ref _closed, null, gate) == gate)
        {
            gate.TrySetResult();
        }
    }
}
