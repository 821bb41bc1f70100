using Keel.Storage;

namespace Keel.Postgres;

/// <summary>
/// One append's values as the statements bind them: the fence (run, owner, epoch), the run's changes and the entries.
/// Computed once, so the single-run and the batched statement write the same thing.
/// </summary>
internal sealed class PostgresAppend
{
    private PostgresAppend(RunLease lease, IReadOnlyList<JournalEntry> entries) => (Lease, Entries) = (lease, entries);

    public RunLease Lease { get; }

    public IReadOnlyList<JournalEntry> Entries { get; }

    public string? Status { get; private init; }

    public string? Result { get; private init; }

    public string? Error { get; private init; }

    public string? Reason { get; private init; }

    public string? Custom { get; private init; }

    public long At { get; private init; }

    public bool Terminal { get; private init; }

    public bool Runnable { get; private init; }

    public bool Release { get; private init; }

    public bool Recovered { get; private init; }

    public bool FailedRecovery { get; private init; }

    public string? RecoveryPoint { get; private init; }

    /// <summary>With a release to wait for signals: the payload kinds its waits read (<see cref="RunTransition.SignalPayloadKinds"/>).</summary>
    public string? SignalKinds { get; private init; }

    public long? Due { get; private init; }

    /// <summary>Messages stored with the append, linked to the run; null for none.</summary>
    public IReadOnlyList<StoredMessage>? Messages { get; private init; }

    /// <summary>Tokens added to the run's totals (model calls journaled by this append); null for none.</summary>
    public TokenTotals? Tokens { get; private init; }

    /// <summary>The signal names a released run waits for; null when it waits for none.</summary>
    public string[]? Waiting { get; private init; }

    /// <summary>Signals the entries consume (deleted from the inbox with them); null when none.</summary>
    public long[]? ConsumedSignals { get; private init; }

    /// <summary>The run is released to wait for signals (a statement after the fences makes it due if one is there).</summary>
    public bool WaitsForSignals => Release && Waiting is { Length: > 0 };

    /// <summary>Entries only, no change to the run (most steps): written by the narrow statement.</summary>
    public bool IsPlain { get; private init; }

    public static PostgresAppend From(RunLease lease, IReadOnlyList<JournalEntry> entries, RunUpdate? update)
    {
        var transition = update?.Transition;
        var recovery = update?.Recovery;
        var status = transition?.Status;
        var at = update?.At ?? (entries.Count > 0 ? entries[^1].RecordedAt : DateTimeOffset.UnixEpoch);
        return new PostgresAppend(lease, entries)
        {
            Status = status?.ToString(),
            Result = transition?.Result,
            Error = transition?.Error is null ? null : StoreJson.Serialize(transition.Error),
            Reason = transition?.StatusReason,
            Custom = update?.CustomStatus is null ? null : StoreJson.Serialize(update.CustomStatus),
            At = at.ToUnixTimeMilliseconds(),
            Terminal = status is { } s && s.IsTerminal(),
            // A NeedsAttention run keeps the due time of its other waits (a timer, a deadline) and is claimed then.
            Runnable = status is not { } next || next.IsRunnable() || next == RunStatus.NeedsAttention,
            Release = transition?.ReleaseLease == true,
            Recovered = recovery?.Recovered == true,
            FailedRecovery = recovery?.Failed == true,
            RecoveryPoint = recovery?.Point,
            SignalKinds = transition?.WaitsForSignals is null ? null : transition.SignalPayloadKinds,
            Due = transition?.DueAt?.ToUnixTimeMilliseconds(),
            Waiting = transition?.WaitsForSignals?.ToArray(),
            ConsumedSignals = update?.Inbox?.ConsumedSignals is { Count: > 0 } consumed ? [.. consumed] : null,
            Tokens = update?.Tokens,
            Messages = update?.Messages is { Count: > 0 } messages ? messages : null,
            IsPlain = update is null,
        };
    }
}
