namespace Keel.Storage;

/// <summary>
/// A change to a run that goes with an append (<see cref="IWorkflowStore.AppendAsync"/>), in groups: the run's own
/// transition, its successor, its inbox, its approvals, its recovery blame, and its custom status. A group left null is
/// not changed.
/// </summary>
/// <remarks>
/// Not every combination means something; <see cref="Validate"/> holds the rules, and every store calls it before it
/// writes anything. The factory methods build the shapes the engine uses.
/// </remarks>
public sealed record RunUpdate
{
    /// <summary>The run's status and what goes with it, and whether its worker lets go of it; null to keep them.</summary>
    public RunTransition? Transition { get; init; }

    /// <summary>The run this one continues as, created in the same transaction and linked (only with a terminal status
    /// and the lease released).</summary>
    public NewRun? ContinueAs { get; init; }

    /// <summary>The change to the run's inbox, or null for none.</summary>
    public InboxChange? Inbox { get; init; }

    /// <summary>The change to the run's pending approvals, or null for none.</summary>
    public ApprovalChange? Approvals { get; init; }

    /// <summary>The change to the run's recovery blame, or null for none beyond what the append itself implies.</summary>
    public RecoveryChange? Recovery { get; init; }

    /// <summary>The run's new custom status, or null to keep it.</summary>
    public RunCustomStatus? CustomStatus { get; init; }

    /// <summary>Tokens to add to the run's totals (<see cref="RunInfo.Tokens"/>): the model calls journaled by this append;
    /// null for none.</summary>
    public TokenTotals? Tokens { get; init; }

    /// <summary>Messages to store with the append, linked to the run (<see cref="IWorkflowStore.PutMessagesAsync"/>), so an
    /// entry that names them commits with them; null for none.</summary>
    public IReadOnlyList<StoredMessage>? Messages { get; init; }

    /// <summary>The time of the change.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Hands the run back: the lease is given up and the run is due at once, its status kept.</summary>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate HandBack(DateTimeOffset at) => new() { Transition = new RunTransition { ReleaseLease = true }, At = at };

    /// <summary>Pauses the run: Paused, the lease given up.</summary>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate Pause(DateTimeOffset at) =>
        new() { Transition = new RunTransition { Status = RunStatus.Paused, ReleaseLease = true }, At = at };

    /// <summary>Releases the run to wait: due at <paramref name="dueAt"/> (never when null and it waits for signals,
    /// else now), or at once when one of <paramref name="waitsForSignals"/> arrives.</summary>
    /// <param name="status">Waiting, or NeedsAttention when a person must act.</param>
    /// <param name="dueAt">When the run is next due, if at a time.</param>
    /// <param name="waitsForSignals">The signal names it waits for, or null.</param>
    /// <param name="signalPayloadKinds">The JSON kinds its waits read (<see cref="RunTransition.SignalPayloadKinds"/>), or null.</param>
    /// <param name="reason">What it waits for, in words, or null.</param>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate ReleaseToWait(RunStatus status, DateTimeOffset? dueAt, IReadOnlyList<string>? waitsForSignals, string? signalPayloadKinds,
        string? reason, DateTimeOffset at) =>
        new()
        {
            Transition = new RunTransition
            {
                Status = status, ReleaseLease = true, DueAt = dueAt, WaitsForSignals = waitsForSignals, SignalPayloadKinds = signalPayloadKinds,
                StatusReason = reason,
            },
            At = at,
        };

    /// <summary>Ends the run (a terminal status) or blocks it, the lease given up.</summary>
    /// <param name="status">Completed, Failed, Cancelled or Blocked.</param>
    /// <param name="at">The time of the change.</param>
    /// <param name="result">The result as JSON (Completed only), or null.</param>
    /// <param name="error">The error (Failed or Blocked), or null.</param>
    /// <param name="reason">Why, in words, or null.</param>
    /// <param name="notifyParent">For a child run that ends: what its parent is told, or null.</param>
    /// <returns>The change.</returns>
    public static RunUpdate Finish(RunStatus status, DateTimeOffset at, string? result = null, ErrorInfo? error = null, string? reason = null,
        ParentNotice? notifyParent = null) =>
        new()
        {
            Transition = new RunTransition
            {
                Status = status, ReleaseLease = true, Result = result, Error = error, StatusReason = reason, NotifyParent = notifyParent,
            },
            At = at,
        };

    /// <summary>Completes the run and creates its successor, linked, in the same transaction.</summary>
    /// <param name="successor">The run it continues as.</param>
    /// <param name="reason">Why, in words, or null.</param>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate ContinueAsNew(NewRun successor, string? reason, DateTimeOffset at) =>
        new() { Transition = new RunTransition { Status = RunStatus.Completed, ReleaseLease = true, StatusReason = reason }, ContinueAs = successor, At = at };

    /// <summary>Records what a run held alone is about to do (<see cref="RecoveryChange.Point"/>).</summary>
    /// <param name="point">The engine's text for it.</param>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate RecordRecoveryPoint(string point, DateTimeOffset at) => new() { Recovery = new RecoveryChange { Point = point }, At = at };

    /// <summary>A suspect run only waits now: it is no longer suspect (<see cref="RecoveryChange.Recovered"/>).</summary>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate MarkRecovered(DateTimeOffset at) => new() { Recovery = new RecoveryChange { Recovered = true }, At = at };

    /// <summary>The run's replay threw: one recovery attempt is charged, the error kept, and the run released until
    /// <paramref name="dueAt"/> (<see cref="RecoveryChange.Failed"/>).</summary>
    /// <param name="error">What the replay threw.</param>
    /// <param name="dueAt">When to try again.</param>
    /// <param name="at">The time of the change.</param>
    /// <returns>The change.</returns>
    public static RunUpdate FailRecovery(ErrorInfo error, DateTimeOffset dueAt, DateTimeOffset at) =>
        new()
        {
            Transition = new RunTransition { ReleaseLease = true, Error = error, DueAt = dueAt },
            Recovery = new RecoveryChange { Failed = true },
            At = at,
        };

    /// <summary>
    /// Checks that the groups combine into a change a store can make, and throws when they do not. Every
    /// <see cref="IWorkflowStore"/> calls it at the start of <see cref="IWorkflowStore.AppendAsync"/>, before it writes.
    /// </summary>
    /// <remarks>
    /// The rules:
    /// <list type="bullet">
    /// <item>a result only with the status Completed;</item>
    /// <item>an error only with the status Failed or Blocked, or with no new status (the last recovery error);</item>
    /// <item>a status other than Pending or Running only with the lease released (a worker does not hold a run that does
    /// not run);</item>
    /// <item>a due time and awaited signals only with the lease released; payload kinds only with awaited signals;</item>
    /// <item>a parent notice and a successor only with a terminal status and the lease released;</item>
    /// <item>a failed recovery only with the lease released, and not together with a recovered one;</item>
    /// <item>token counts only added (none negative).</item>
    /// </list>
    /// </remarks>
    /// <exception cref="ArgumentException">A rule is broken; the message names it.</exception>
    public void Validate()
    {
        var transition = Transition;
        var status = transition?.Status;
        var released = transition?.ReleaseLease == true;
        var terminal = status is { } s && s.IsTerminal();
        if (transition is not null)
        {
            if (transition.Result is not null && status != RunStatus.Completed)
            {
                throw Broken($"a result goes only with the status Completed (the status is {Describe(status)})");
            }
            if (transition.Error is not null && status is not (null or RunStatus.Failed or RunStatus.Blocked))
            {
                throw Broken($"an error goes only with the status Failed or Blocked, or with no new status (the status is {Describe(status)})");
            }
            if (status is { } held && held is not (RunStatus.Pending or RunStatus.Running) && !released)
            {
                throw Broken($"the status {held} goes only with the lease released (ReleaseLease): a worker holds only a run that runs");
            }
            if (transition.DueAt is not null && !released)
            {
                throw Broken("a due time goes only with the lease released (ReleaseLease)");
            }
            if (transition.WaitsForSignals is not null && !released)
            {
                throw Broken("awaited signals go only with the lease released (ReleaseLease)");
            }
            if (transition.SignalPayloadKinds is not null && transition.WaitsForSignals is null)
            {
                throw Broken("signal payload kinds go only with awaited signals (WaitsForSignals)");
            }
            if (transition.NotifyParent is not null && !(terminal && released))
            {
                throw Broken($"a parent notice goes only with a terminal status and the lease released (the status is {Describe(status)})");
            }
        }
        if (ContinueAs is not null && !(terminal && released))
        {
            throw Broken($"a successor (ContinueAs) goes only with a terminal status and the lease released (the status is {Describe(status)})");
        }
        if (Tokens is { } tokens && (tokens.InputTokens < 0 || tokens.OutputTokens < 0 || tokens.TotalTokens < 0 || tokens.ModelCalls < 0))
        {
            throw Broken("token counts are added, never taken away (Tokens has a negative count)");
        }
        if (Messages is not null)
        {
            StoredMessage.Validate(Messages, nameof(Messages));
        }
        if (Recovery is { } recovery)
        {
            if (recovery.Failed && recovery.Recovered)
            {
                throw Broken("a recovery cannot both fail and succeed (Failed with Recovered)");
            }
            if (recovery.Failed && !released)
            {
                throw Broken("a failed recovery goes only with the lease released (ReleaseLease)");
            }
        }
    }

    private static string Describe(RunStatus? status) => status?.ToString() ?? "unchanged";

    private static ArgumentException Broken(string rule) => new($"Invalid run update: {rule}.");
}
