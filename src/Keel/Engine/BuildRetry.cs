using Keel.Storage;
using Microsoft.Extensions.Logging;

namespace Keel.Engine;

/// <summary>
/// When a worker starts: runs of its workflows that a worker of another build blocked for nondeterminism are unblocked,
/// once per build, so that deploying the code a run needs (a fix, or the old code brought back) is enough for it to go
/// on. A run this build already retried, or blocked itself, is left for a person.
/// </summary>
internal static class BuildRetry
{
    private const int PageSize = 100;
    private const int MaxPages = 20;

    public static async Task RunAsync(IWorkflowStore store, IReadOnlyCollection<string> workflows, string build, Func<string?, bool> serves,
        TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var by = $"keel worker of build {build}";
        string? cursor = null;
        // One listing of the Blocked runs (few, normally), whatever their workflow: not a query per workflow served.
        for (var page = 0; page < MaxPages; page++)
        {
            var runs = await store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Blocked], Limit = PageSize, Cursor = cursor }, cancellationToken);
            // A run whose build this worker does not serve is left to workers that do (it could not claim it).
            foreach (var run in runs.Runs.Where(r => workflows.Contains(r.WorkflowName) && serves(r.BuildId)))
            {
                var journal = await store.GetJournalAsync(run.RunId, cancellationToken);
                var blocked = journal.LastOrDefault(e => e.Kind == JournalEntryKind.RunBlocked);
                if (blocked is null || KeelJson.TryRead<BlockData>(blocked.Payload) is not { Cause: BlockData.Nondeterminism, Build: { } blockedBy } ||
                    string.Equals(blockedBy, build, StringComparison.Ordinal) ||
                    journal.Any(e => e.Kind == JournalEntryKind.RunUnblocked && KeelJson.TryRead<OperatorActionData>(e.Payload)?.By == by))
                {
                    continue;
                }
                var action = new OperatorActionData(by, $"automatic retry: build {blockedBy} blocked it for nondeterminism; this worker runs build {build}");
                if (await store.UnblockAsync(run.RunId, action.ToJson(), time.GetUtcNow(), cancellationToken) == UnblockOutcome.Unblocked)
                {
                    logger.RetriedByBuild(run.RunId, blockedBy, build);
                }
            }
            if ((cursor = runs.NextCursor) is null)
            {
                break;
            }
        }
    }
}
