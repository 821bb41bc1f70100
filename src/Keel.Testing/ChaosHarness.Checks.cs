using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Keel.Testing;

public static partial class ChaosHarness
{
    // RecordedAt is kept to the millisecond (truncated): a start up to 1 ms after it may still precede the outcome.
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(1);
    private const int DetailsPerKind = 20;

    /// <summary>Checks the invariants from the ledger and the journals, once every run has ended (or the settle timeout passed).</summary>
    private static async Task<ChaosReport> CheckAsync(ChaosOptions options, int seed, SoakState state, List<ChaosEvent> events,
        List<string> violations, Stopwatch wall, CancellationToken cancellationToken)
    {
        var runs = await ListAllAsync(options.Client, [], cancellationToken).ConfigureAwait(false);
        var bodies = BodyLedger.Read(options.LedgerDirectory);
        var byPosition = bodies.GroupBy(b => (b.RunId, b.Sequence)).ToDictionary(g => g.Key, g => g.ToList());
        var details = new Details(violations);
        int reruns = 0, atMostOnce = 0, keys = 0, missing = 0, quarantined = 0, neverEnded = 0, completedSteps = 0;
        foreach (var run in runs.OrderBy(r => r.RunId, StringComparer.Ordinal))
        {
            var poison = options.IsExpectedPoison?.Invoke(run) == true;
            if (run.Status == RunStatus.Blocked)
            {
                quarantined++;
                if (!poison)
                {
                    details.Add("blocked", $"Run {run.RunId} ({run.WorkflowName}) ended Blocked, and it is not expected poison: {run.StatusReason}");
                }
            }
            else if (poison)
            {
                details.Add("poison", $"Run {run.RunId} ({run.WorkflowName}) is expected poison but is {run.Status}, not Blocked.");
            }
            if (!Ended(run))
            {
                neverEnded++;
                details.Add("unended", $"Run {run.RunId} ({run.WorkflowName}) never ended: {run.Status}{(run.StatusReason is { } why ? $" ({why})" : "")}.");
            }

            var journal = await options.Client.GetJournalAsync(run.RunId, cancellationToken).ConfigureAwait(false);
            foreach (var position in journal.Where(e => e.Sequence > 0).GroupBy(e => e.Sequence))
            {
                var entries = position.ToList();
                var starts = byPosition.GetValueOrDefault((run.RunId, position.Key)) ?? [];
                var outcomes = entries.Where(e => e.Kind is JournalEntryKind.StepCompleted or JournalEntryKind.StepFailed).ToList();
                if (outcomes.Count > 1)
                {
                    details.Add("outcomes", $"Run {run.RunId} position {position.Key} ('{outcomes[0].Name}') has {outcomes.Count} outcomes journaled.");
                }
                var retries = entries.Count(e => IsResolution(e, "retry"));
                var completedByResolution = entries.Any(e => IsResolution(e, "complete"));
                var failedAttempts = entries.Count(e => e.Kind == JournalEntryKind.StepAttemptFailed);

                if (outcomes.Count > 0)
                {
                    var outcome = outcomes[0];
                    foreach (var late in starts.Where(s => s.At > outcome.RecordedAt + Slack))
                    {
                        reruns++;
                        details.Add("rerun", string.Create(CultureInfo.InvariantCulture,
                            $"Run {run.RunId} position {position.Key} step '{late.StepName}': body started (attempt {late.Attempt}, pid {late.ProcessId}) at {late.At:HH:mm:ss.ffffff}, after its outcome ({outcome.Kind}, attempt {outcome.Attempt}) was journaled at {outcome.RecordedAt:HH:mm:ss.fff}."));
                    }
                }
                if (outcomes.FirstOrDefault(o => o.Kind == JournalEntryKind.StepCompleted) is { } completed)
                {
                    completedSteps++;
                    if (starts.Count == 0 && !completedByResolution)
                    {
                        missing++;
                        details.Add("missing", $"Run {run.RunId} position {position.Key} step '{completed.Name}' is journaled completed (attempt {completed.Attempt}), but no body of it started and no resolution completed it.");
                    }
                }
                var onceStarts = starts.Where(s => s.Effect == StepEffect.AtMostOnce).ToList();
                var allowed = 1 + retries + failedAttempts;
                if (onceStarts.Count > allowed)
                {
                    atMostOnce += onceStarts.Count - allowed;
                    details.Add("atmostonce", $"Run {run.RunId} position {position.Key} step '{onceStarts[0].StepName}' (AtMostOnce): {onceStarts.Count} body starts " +
                        $"(pids {string.Join(", ", onceStarts.Select(s => s.ProcessId.ToString(CultureInfo.InvariantCulture)))}, attempts {string.Join(", ", onceStarts.Select(s => s.Attempt.ToString(CultureInfo.InvariantCulture)))}), " +
                        $"only {allowed} allowed ({retries} retry resolution(s), {failedAttempts} failed attempt(s)).");
                }
                var distinctKeys = starts.Where(s => s.Effect == StepEffect.Idempotent).Select(s => s.IdempotencyKey).Distinct(StringComparer.Ordinal).ToList();
                if (distinctKeys.Count > 1)
                {
                    keys += distinctKeys.Count - 1;
                    details.Add("keys", $"Run {run.RunId} position {position.Key} (Idempotent): bodies started with {distinctKeys.Count} keys: {string.Join(", ", distinctKeys)}.");
                }
            }
        }
        if (bodies.Count == 0 && completedSteps > 0)
        {
            violations.Add($"The ledger in {options.LedgerDirectory} is empty though {completedSteps} steps completed: do the workers attach a BodyLedger there (BodyLedger.AttachFromEnvironment)?");
        }
        var stale = CountStaleStarts(bodies, events, details);
        details.Flush();

        return new ChaosReport
        {
            Seed = seed,
            Kills = state.Kills,
            Stops = state.Stops,
            WorkerExits = state.Exits,
            Runs = runs.Count,
            RunsCompleted = runs.Count(r => r.Status == RunStatus.Completed),
            RunsFailed = runs.Count(r => r.Status == RunStatus.Failed),
            RunsCancelled = runs.Count(r => r.Status == RunStatus.Cancelled),
            RunsQuarantined = quarantined,
            RunsNeverEnded = neverEnded,
            BodyStarts = bodies.Count,
            CompletedStepReruns = reruns,
            AtMostOnceDuplicates = atMostOnce,
            IdempotentKeyMismatches = keys,
            MissingEffects = missing,
            StaleBodyStarts = stale,
            NeedsAttentionResolved = state.ResolvedCount,
            WallTime = wall.Elapsed,
            Violations = violations,
            FinalRuns = runs,
            Bodies = bodies,
            Events = events,
        };
    }

    /// <summary>
    /// Body starts by a stopped worker, from its SIGSTOP to the next interference, later than a start by another worker
    /// for the same run since the SIGSTOP of the same or a later (position, attempt): the other worker had taken the run
    /// over, so the stopped one acted on a lease it no longer had. (A run the other worker released, a wait, is resumed
    /// past what it started, so a legitimate start is never at or before it; and while the stopped worker still held
    /// the lease, no other worker started anything of the run.)
    /// </summary>
    private static int CountStaleStarts(IReadOnlyList<BodyStart> bodies, List<ChaosEvent> events, Details details)
    {
        var stale = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is not { Kind: ChaosEventKind.Stop } stop)
            {
                continue;
            }
            var windowEnd = events.Skip(i + 1).Select(e => (DateTimeOffset?)e.At).FirstOrDefault() ?? DateTimeOffset.MaxValue;
            var others = bodies.Where(b => b.ProcessId != stop.ProcessId && b.At >= stop.At && b.At < windowEnd).ToList();
            foreach (var late in bodies.Where(b => b.ProcessId == stop.ProcessId && b.At >= stop.At && b.At < windowEnd))
            {
                var taken = others.FirstOrDefault(o => o.RunId == late.RunId && o.At < late.At
                                                      && (o.Sequence > late.Sequence || o.Sequence == late.Sequence && o.Attempt >= late.Attempt));
                if (taken is not null)
                {
                    stale++;
                    details.Add("stale", string.Create(CultureInfo.InvariantCulture,
                        $"Run {late.RunId}: worker pid {late.ProcessId}, stopped {stop.At:HH:mm:ss.fff}-{stop.Until:HH:mm:ss.fff}, started step '{late.StepName}' (position {late.Sequence}, attempt {late.Attempt}) at {late.At:HH:mm:ss.ffffff}, after pid {taken.ProcessId} had started position {taken.Sequence} (attempt {taken.Attempt}) at {taken.At:HH:mm:ss.ffffff}."));
                }
            }
        }
        return stale;
    }

    /// <summary>Whether a StepResolved entry's payload has this action ("retry", "complete" or "fail").</summary>
    private static bool IsResolution(JournalEntry entry, string action) =>
        entry.Kind == JournalEntryKind.StepResolved && string.Equals(ResolutionAction(entry), action, StringComparison.OrdinalIgnoreCase);

    private static string? ResolutionAction(JournalEntry entry)
    {
        if (entry.Payload is null)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(entry.Payload);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (string.Equals(property.Name, "action", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
                {
                    return property.Value.GetString();
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>Violations in words, at most a few per kind (the counts say how many there were).</summary>
    private sealed class Details(List<string> violations)
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        public void Add(string kind, string text)
        {
            var count = _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
            if (count <= DetailsPerKind)
            {
                violations.Add(text);
            }
        }

        public void Flush()
        {
            foreach (var (kind, count) in _counts.Where(c => c.Value > DetailsPerKind))
            {
                violations.Add($"... and {count - DetailsPerKind} more of this kind ({kind}).");
            }
        }
    }
}
