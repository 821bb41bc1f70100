using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>What waits for a person, and who is asking.</summary>
internal static class InboxEndpoints
{
    /// <summary>Runs listed per part of the inbox; the counts say "at least" beyond it.</summary>
    public const int PerPart = 100;

    /// <summary>How far back a failed run still counts as recently failed.</summary>
    public static readonly TimeSpan FailedWithin = TimeSpan.FromDays(1);

    /// <summary>
    /// <c>GET inbox</c>: the on-call's work — approvals to decide, runs that need a decision on a step, blocked runs, and
    /// runs that failed in the last day — each part oldest-waiting first, with the counts the navigation shows.
    /// </summary>
    public static async Task<IResult> GetAsync(KeelClient keel, CancellationToken cancellationToken)
    {
        var inbox = await Inbox.ReadAsync(keel, cancellationToken).ConfigureAwait(false);
        return Results.Json(inbox, ApiJson.Options);
    }

    /// <summary><c>GET me</c>: the key this call was made with (its name and role), so a page offers only what it may do.</summary>
    public static IResult Me(HttpContext context) =>
        Results.Json(context.Items[typeof(KeelApiKey)] is KeelApiKey key
            ? new Caller(key.Shared ? null : key.Name, key.Role, KeysRequired: true)
            : new Caller(null, KeelApiRole.Operator, KeysRequired: false), ApiJson.Options);

    /// <summary><c>GET workers</c>' answer: each worker with <c>alive</c> (<see cref="WorkerInfo.IsAliveAt"/> now).</summary>
    public static JsonArray WithAlive(IReadOnlyList<WorkerInfo> workers, DateTimeOffset now)
    {
        var array = JsonSerializer.SerializeToNode(workers, ApiJson.Options)!.AsArray();
        for (var i = 0; i < workers.Count; i++)
        {
            array[i]!["alive"] = workers[i].IsAliveAt(now);
        }
        return array;
    }
}

/// <summary>Who calls: the name of a named key (null for the shared key or an open API), its role, and whether the API
/// asks for keys at all.</summary>
internal sealed record Caller(string? Name, KeelApiRole Role, bool KeysRequired);

/// <summary>The inbox (<c>GET inbox</c>).</summary>
internal sealed record Inbox(IReadOnlyList<PendingApproval> Approvals, IReadOnlyList<RunInfo> NeedsAttention, IReadOnlyList<RunInfo> Blocked,
    IReadOnlyList<RunInfo> Failed, InboxCounts Counts)
{
    public static async Task<Inbox> ReadAsync(KeelClient keel, CancellationToken cancellationToken)
    {
        var approvals = keel.ListPendingApprovalsAsync(null, InboxEndpoints.PerPart, cancellationToken);
        var attention = RunsAsync(keel, RunStatus.NeedsAttention, cancellationToken);
        var blocked = RunsAsync(keel, RunStatus.Blocked, cancellationToken);
        var failed = RunsAsync(keel, RunStatus.Failed, cancellationToken);
        var since = TimeProvider.System.GetUtcNow() - InboxEndpoints.FailedWithin;
        IReadOnlyList<PendingApproval> pending = await approvals.ConfigureAwait(false);
        IReadOnlyList<RunInfo> needs = await attention.ConfigureAwait(false), stopped = await blocked.ConfigureAwait(false);
        IReadOnlyList<RunInfo> recent = [.. (await failed.ConfigureAwait(false)).Where(r => r.CompletedAt >= since)];
        return new Inbox(pending, needs, stopped, recent, new InboxCounts(pending.Count, needs.Count, stopped.Count, recent.Count));
    }

    // Oldest first: who has waited longest is decided first.
    private static async Task<IReadOnlyList<RunInfo>> RunsAsync(KeelClient keel, RunStatus status, CancellationToken cancellationToken)
    {
        var page = await keel.ListRunsAsync(new RunQuery { Statuses = [status], Limit = InboxEndpoints.PerPart }, cancellationToken).ConfigureAwait(false);
        return [.. page.Runs.OrderBy(r => r.UpdatedAt)];
    }
}

/// <summary>How many of each part of the inbox wait (each at most <see cref="InboxEndpoints.PerPart"/>: more reads as that).</summary>
/// <param name="Approvals">Approvals not decided yet.</param>
/// <param name="NeedsAttention">Runs waiting for a decision on a step whose outcome is unknown.</param>
/// <param name="Blocked">Runs stopped by their recovery budget (quarantined) or by a person.</param>
/// <param name="Failed">Runs that failed in the last day.</param>
internal sealed record InboxCounts(int Approvals, int NeedsAttention, int Blocked, int Failed)
{
    private static readonly ConditionalWeakTable<KeelClient, Cache> Caches = new();

    /// <summary>The counts, read at most once a few seconds for all the streams of one client: every open page asks each second.</summary>
    public static async Task<InboxCounts> GetAsync(KeelClient keel, CancellationToken cancellationToken)
    {
        var cache = Caches.GetValue(keel, _ => new Cache());
        if (Volatile.Read(ref cache.Last) is { } last && TimeProvider.System.GetUtcNow() - last.At < Cache.MaxAge)
        {
            return last.Counts;
        }
        var counts = (await Inbox.ReadAsync(keel, cancellationToken).ConfigureAwait(false)).Counts;
        Volatile.Write(ref cache.Last, new Counted(counts, TimeProvider.System.GetUtcNow()));
        return counts;
    }

    private sealed record Counted(InboxCounts Counts, DateTimeOffset At);

    private sealed class Cache
    {
        public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);

        public Counted? Last;
    }
}
