using Keel.Cli.Output;

namespace Keel.Cli.Demo;

/// <summary>Polls a run's journal through the client and prints each new entry once, naming the worker that ran it, in
/// the words of the run's history.</summary>
internal sealed class JournalWatcher(KeelClient client, string runId, DateTimeOffset runCreatedAt, TextWriter writer)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private IReadOnlyList<JournalEntry> _journal = [];

    public IReadOnlyList<JournalEntry> Journal => _journal;

    /// <summary>The run's history as of the last poll.</summary>
    public RunHistory History { get; private set; } = RunHistory.Build(null, []);

    /// <summary>Reads the journal and prints the entries not printed yet.</summary>
    public async Task<RunHistory> PollAsync(WorkerProcess worker, CancellationToken cancellationToken)
    {
        var journal = await client.GetJournalAsync(runId, cancellationToken);
        var history = RunHistory.Build(null, journal);
        foreach (var entry in journal.Skip(_journal.Count))
        {
            writer.WriteLine($"  {TimeFormat.Relative(entry.RecordedAt, runCreatedAt),-9} worker {worker.Number}  {entry.Name,-20} {Describe(history, entry, runCreatedAt)}");
        }
        writer.Flush();
        _journal = journal;
        History = history;
        return history;
    }

    /// <summary>Polls until <paramref name="done"/> holds for the history, the worker exits, or the timeout passes.</summary>
    /// <returns>True when <paramref name="done"/> held.</returns>
    public async Task<bool> WatchUntilAsync(WorkerProcess worker, Func<RunHistory, bool> done, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var exited = worker.HasExited;
            if (done(await PollAsync(worker, cancellationToken)))
            {
                return true;
            }
            if (exited)
            {
                return false;
            }
            await Task.Delay(PollInterval, TimeProvider.System, cancellationToken);
        }
        return false;
    }

    /// <summary>What one entry recorded, found in the history by its journal index: an attempt, a decision, a request, an event.</summary>
    public static string Describe(RunHistory history, JournalEntry entry, DateTimeOffset origin)
    {
        if (history.Events.FirstOrDefault(e => e.Index == entry.Index) is { } runEvent)
        {
            return runEvent.Kind switch
            {
                RunEventKind.Completed => "run completed",
                RunEventKind.Failed => $"run failed: {ErrorMessage(runEvent.Error)}",
                RunEventKind.Cancelled => "run cancelled",
                RunEventKind.Blocked => $"run blocked: {ErrorMessage(runEvent.Error)}",
                _ => runEvent.Kind.ToString(),
            };
        }
        if (history.Decisions.FirstOrDefault(d => d.Index == entry.Index) is { Kind: DecisionKind.Approval } decision)
        {
            return ApprovalText.Decision(decision);
        }
        var operation = history.FindOperation(entry.Sequence);
        if (operation?.Approval is { } request && operation.FirstIndex == entry.Index)
        {
            return $"approval requested: {ApprovalText.Request(request)}";
        }
        if (operation?.Attempts.FirstOrDefault(a => a.Index == entry.Index) is { } attempt)
        {
            return attempt.Outcome switch
            {
                AttemptOutcome.Completed => $"completed (attempt {attempt.Number})",
                AttemptOutcome.Failed => $"attempt {attempt.Number} failed: {ErrorMessage(attempt.Error)} " +
                                         $"(retry at {(attempt.RetryAt is { } at ? TimeFormat.Relative(at, origin) : "?")})",
                AttemptOutcome.FailedForGood => $"failed for good on attempt {attempt.Number}: {ErrorMessage(attempt.Error)}",
                _ => $"attempt {attempt.Number} {attempt.Outcome.ToString().ToLowerInvariant()}",
            };
        }
        return entry.Kind.ToString();
    }

    private static string ErrorMessage(ErrorInfo? error) => error is not null ? ErrorText.Describe(error) : "no error recorded";
}
