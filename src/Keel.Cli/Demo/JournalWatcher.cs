using Keel.Cli.Output;

namespace Keel.Cli.Demo;

/// <summary>Polls a run's journal through the client and prints each new entry once, naming the worker that ran it.</summary>
internal sealed class JournalWatcher(KeelClient client, string runId, DateTimeOffset runCreatedAt, TextWriter writer)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private IReadOnlyList<JournalEntry> _journal = [];

    public IReadOnlyList<JournalEntry> Journal => _journal;

    /// <summary>Reads the journal and prints the entries not printed yet.</summary>
    public async Task<IReadOnlyList<JournalEntry>> PollAsync(WorkerProcess worker, CancellationToken cancellationToken)
    {
        var journal = await client.GetJournalAsync(runId, cancellationToken);
        foreach (var entry in journal.Skip(_journal.Count))
        {
            writer.WriteLine($"  {TimeFormat.Relative(entry.RecordedAt, runCreatedAt),-9} worker {worker.Number}  {entry.Name,-20} {Describe(entry, runCreatedAt)}");
        }
        writer.Flush();
        _journal = journal;
        return journal;
    }

    /// <summary>Polls until <paramref name="done"/> holds for the journal, the worker exits, or the timeout passes.</summary>
    /// <returns>True when <paramref name="done"/> held.</returns>
    public async Task<bool> WatchUntilAsync(WorkerProcess worker, Func<IReadOnlyList<JournalEntry>, bool> done, TimeSpan timeout,
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

    public static string Describe(JournalEntry entry, DateTimeOffset origin) => entry.Kind switch
    {
        JournalEntryKind.StepCompleted => $"completed (attempt {entry.Attempt})",
        JournalEntryKind.StepAttemptFailed =>
            $"attempt {entry.Attempt} failed: {ErrorMessage(entry)} (retry at {(entry.RetryAt is { } at ? TimeFormat.Relative(at, origin) : "?")})",
        JournalEntryKind.StepFailed => $"failed for good on attempt {entry.Attempt}: {ErrorMessage(entry)}",
        JournalEntryKind.ApprovalRequested => $"approval requested: {ApprovalText.Request(entry)}",
        JournalEntryKind.ApprovalDecided => ApprovalText.Decision(entry),
        JournalEntryKind.RunCompleted => "run completed",
        JournalEntryKind.RunFailed => $"run failed: {ErrorMessage(entry)}",
        JournalEntryKind.RunCancelled => "run cancelled",
        JournalEntryKind.RunBlocked => $"run blocked: {ErrorMessage(entry)}",
        _ => entry.Kind.ToString(),
    };

    private static string ErrorMessage(JournalEntry entry) =>
        entry.Error is { } error ? ErrorText.Describe(error) : "no error recorded";
}
