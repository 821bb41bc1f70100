using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Keel.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Keel.Server;

/// <summary>
/// Server-sent events: a run's new journal entries as they are written, and the runs of a list as they change, so a
/// page updates what changed instead of reloading. Each stream checks the store cheaply (one run, or one page of runs)
/// when something may have changed — an action of this process, a PostgreSQL NOTIFY (new, cancelled, signalled or
/// released runs) — and at least every <see cref="PollInterval"/> for what nothing announces (a step
/// written by a worker in another process: appends do not NOTIFY, since every NOTIFY serializes commits).
/// </summary>
internal static class LiveEndpoints
{
    /// <summary>The longest a change made elsewhere waits to be seen.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>A comment-like event at least this often, so proxies keep the connection and the client knows it is live.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    /// <summary>An unfinished run's journal is read again this often even when its last-change time did not move (two
    /// writes in one clock tick look alike).</summary>
    private static readonly TimeSpan JournalRecheck = TimeSpan.FromSeconds(5);

    /// <summary>Entries per event: a first read of a long journal comes in parts.</summary>
    private const int EntriesPerEvent = 500;

    /// <summary>
    /// <c>GET runs/{id}/events</c>: <c>entries</c> events carry the journal entries written since the last one seen (the
    /// event id is the number of entries sent so far: reconnecting with <c>Last-Event-ID: N</c>, or <c>?after=N</c>, sends
    /// those after the first N); a <c>run</c> event carries the run whenever it changed (status, holder, custom status).
    /// </summary>
    public static async Task<IResult> RunAsync(string runId, HttpContext context, KeelClient keel, CancellationToken cancellationToken)
    {
        runId = KeelApi.RunId(runId);
        var after = StartFrom(context.Request);
        // Refuse a wrong id with 404 before the stream starts; afterwards a problem can only end it.
        _ = await keel.GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
        return TypedResults.ServerSentEvents(EndQuietlyAsync(token => RunEventsAsync(keel, runId, after, token), Streaming(context, cancellationToken)));
    }

    /// <summary>
    /// <c>GET events</c>: the runs of the list the query describes (the filters of <c>GET runs</c>, first page): a <c>run</c>
    /// event for each run that is new or changed, <c>removed</c> for a run that left the list (it no longer matches the
    /// filter), and <c>counts</c> with what waits for a person (<see cref="InboxCounts"/>) when those change.
    /// </summary>
    public static IResult List(HttpContext context, KeelClient keel, CancellationToken cancellationToken)
    {
        var query = RunEndpoints.Query(context.Request) with { Cursor = null };
        return TypedResults.ServerSentEvents(EndQuietlyAsync(token => ListEventsAsync(keel, query, token), Streaming(context, cancellationToken)));
    }

    /// <summary>A stream ends when its client goes or the server stops: an open stream must not hold up a shutdown.</summary>
    private static CancellationToken Streaming(HttpContext context, CancellationToken requestAborted)
    {
        if (context.RequestServices.GetService<IHostApplicationLifetime>() is not { } lifetime)
        {
            return requestAborted;
        }
        var both = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        context.Response.RegisterForDispose(both);
        return both.Token;
    }

    /// <summary>Ends a stream without an error when it is cancelled (client gone, server stopping), and with an <c>error</c>
    /// event saying why when the store fails (the client reconnects and goes on from its last event id).</summary>
    private static async IAsyncEnumerable<SseItem<string>> EndQuietlyAsync(Func<CancellationToken, IAsyncEnumerable<SseItem<string>>> stream,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = stream(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var scope = events.ConfigureAwait(false);
        while (true)
        {
            string? failure = null;
            try
            {
                if (!await events.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            catch (StorageException ex)
            {
                failure = ex.Message;
            }
            if (failure is not null)
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(new { detail = failure }, ApiJson.Options), "error");
                yield break;
            }
            yield return events.Current;
        }
    }

    private static int StartFrom(HttpRequest request)
    {
        var text = request.Headers["Last-Event-ID"].ToString();
        if (text.Length == 0)
        {
            return KeelApi.IntQuery(request, "after", 0, 0, int.MaxValue);
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var after)
            ? after
            : throw new ApiRequestException(StatusCodes.Status400BadRequest, $"Last-Event-ID must be the id of an event of this stream (a number of entries); got '{text}'.");
    }

    private static async IAsyncEnumerable<SseItem<string>> RunEventsAsync(KeelClient keel, string runId, int sent,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RunInfo? shown = null;
        var journalReadAt = DateTimeOffset.MinValue;
        var heartbeatAt = TimeProvider.System.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = NextChangeAsync(keel, cancellationToken); // taken before reading, so a change during the read is not missed
            var run = await keel.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
            if (run is null)
            {
                yield return Item("removed", JsonSerializer.Serialize(new { runId }, ApiJson.Options), sent);
                yield break; // purged
            }
            var now = TimeProvider.System.GetUtcNow();
            if (shown is null || run.UpdatedAt != shown.UpdatedAt || (!run.Status.IsTerminal() && now - journalReadAt >= JournalRecheck))
            {
                journalReadAt = now;
                var journal = await keel.GetJournalAsync(runId, cancellationToken).ConfigureAwait(false);
                for (; sent < journal.Count; sent = Math.Min(journal.Count, sent + EntriesPerEvent))
                {
                    var part = journal.Skip(sent).Take(EntriesPerEvent).ToArray();
                    yield return Item("entries", JsonSerializer.Serialize(part, ApiJson.Options), sent + part.Length);
                    heartbeatAt = now;
                }
            }
            if (shown is null || !SameRow(shown, run))
            {
                yield return Item("run", JsonSerializer.Serialize(run, ApiJson.Options), sent);
                heartbeatAt = now;
            }
            shown = run;
            if (now - heartbeatAt >= Heartbeat)
            {
                yield return Item("ping", "{}", sent);
                heartbeatAt = now;
            }
            await next.ConfigureAwait(false);
        }
    }

    private static async IAsyncEnumerable<SseItem<string>> ListEventsAsync(KeelClient keel, RunQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var shown = new Dictionary<string, RunInfo>(StringComparer.Ordinal);
        InboxCounts? counted = null;
        var tick = 0;
        var heartbeatAt = TimeProvider.System.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = NextChangeAsync(keel, cancellationToken);
            var page = await keel.ListRunsAsync(query, cancellationToken).ConfigureAwait(false);
            var now = TimeProvider.System.GetUtcNow();
            tick++;
            var listed = new HashSet<string>(StringComparer.Ordinal);
            // Oldest first: a page that inserts each new run at its top ends in the list's order.
            for (var i = page.Runs.Count - 1; i >= 0; i--)
            {
                var run = page.Runs[i];
                listed.Add(run.RunId);
                if (!shown.TryGetValue(run.RunId, out var before) || !SameRow(before, run))
                {
                    shown[run.RunId] = run;
                    yield return Item("run", JsonSerializer.Serialize(run, ApiJson.Options), tick);
                    heartbeatAt = now;
                }
            }
            foreach (var gone in shown.Keys.Where(id => !listed.Contains(id)).ToArray())
            {
                shown.Remove(gone);
                yield return Item("removed", JsonSerializer.Serialize(new { runId = gone }, ApiJson.Options), tick);
            }
            var counts = await InboxCounts.GetAsync(keel, cancellationToken).ConfigureAwait(false);
            if (counts != counted)
            {
                counted = counts;
                yield return Item("counts", JsonSerializer.Serialize(counts, ApiJson.Options), tick);
                heartbeatAt = now;
            }
            if (now - heartbeatAt >= Heartbeat)
            {
                yield return Item("ping", "{}", tick);
                heartbeatAt = now;
            }
            await next.ConfigureAwait(false);
        }
    }

    /// <summary>Whether a list row or the run's facts would read the same: its last change and what may change without it.</summary>
    private static bool SameRow(RunInfo a, RunInfo b) =>
        a.UpdatedAt == b.UpdatedAt && a.Status == b.Status && a.Owner == b.Owner && a.PauseRequested == b.PauseRequested
        && a.CancelRequested == b.CancelRequested && a.Priority == b.Priority && Equals(a.StuckChild, b.StuckChild);

    private static SseItem<string> Item(string type, string data, int id) =>
        new(data, type) { EventId = id.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Completes at the next hint of a change (<see cref="KeelClient.ChangeHint"/>: an action of this process, a
    /// PostgreSQL notification), or after <see cref="PollInterval"/>; never throws (the stream's loop ends on the token).</summary>
    private static async Task NextChangeAsync(KeelClient keel, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(Task.Delay(PollInterval, TimeProvider.System, timeout.Token), keel.ChangeHint).ConfigureAwait(false);
        await timeout.CancelAsync().ConfigureAwait(false);
    }
}
