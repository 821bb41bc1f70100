using Keel;
using Keel.Testing;

namespace Keel.TestWorker;

/// <summary>
/// What the crash harness runs: three parallel idempotent branches, a child run, an AtMostOnce send with an outcome
/// check, and a reservation whose compensation runs when the charge fails. The result is the same however it is
/// interrupted.
/// </summary>
public static class HarnessFlow
{
    public const string Name = "harness-flow";
    public const string ChildName = "harness-child";

    public static void Register(KeelBuilder k, EffectLedger ledger) => k
        .AddWorkflow<int, string>(Name, async (ctx, seed) =>
        {
            var saga = ctx.CreateSaga();
            var idempotent = new StepOptions { Effect = StepEffect.Idempotent };
            // Staggered, so the branches' outcomes are (almost always) journaled by separate appends: crash points line up.
            var branches = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => ctx.StepAsync($"branch-{i}", async sc =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(25 * i), TimeProvider.System, sc.CancellationToken);
                ledger.Apply($"branch-{i}", sc.IdempotencyKey);
                return seed * i;
            }, idempotent)));
            var child = await ctx.RunChildAsync<int, int>(ChildName, branches.Sum());
            var receipt = $"receipt-{child}";
            var sent = await ctx.StepAsync("send-invoice", sc =>
            {
                ledger.Apply("send-invoice", sc.IdempotencyKey);
                return Task.FromResult(receipt);
            }, new StepOptions
            {
                Effect = StepEffect.AtMostOnce,
                // The "mail server" knows what it sent: an interrupted send is settled without a person.
                CheckUnknownOutcome = sc => Task.FromResult(ledger.Has("send-invoice", sc.IdempotencyKey)
                    ? UnknownOutcomeCheck.Happened(receipt, "found in the outbox")
                    : UnknownOutcomeCheck.DidNotHappen("not in the outbox")),
            });
            await saga.StepAsync("reserve", sc =>
            {
                ledger.Apply("reserve", sc.IdempotencyKey);
                return Task.FromResult(1);
            }, (sc, _) =>
            {
                ledger.Apply("release", sc.IdempotencyKey);
                return Task.CompletedTask;
            }, idempotent);
            try
            {
                await ctx.StepAsync<int>("charge", _ => throw new TerminalStepException("card declined"));
                return "charged";
            }
            catch (StepFailedException)
            {
                await saga.CompensateAsync();
            }
            return $"{string.Join(",", branches)}|child {child}|{sent}|released";
        })
        .AddWorkflow<int, int>(ChildName, async (ctx, n) => await ctx.StepAsync("square", sc =>
        {
            ledger.Apply("square", sc.IdempotencyKey);
            return Task.FromResult(n * n);
        }, new StepOptions { Effect = StepEffect.Idempotent }));
}

/// <summary>
/// A fake external API with a log: every call that reaches it is a line "EFFECT KEY PID", so a test counts how often a
/// body acted (lines) and how often the API applied it (distinct keys). Calls from a dead harness process do nothing.
/// </summary>
public sealed class EffectLedger(string path, HarnessProcess process)
{
    private readonly Lock _lock = new();

    public void Apply(string effect, string key)
    {
        lock (_lock)
        {
            if (process.IsDead)
            {
                return; // a killed process does nothing more
            }
            File.AppendAllText(path, $"{effect} {key} {Environment.ProcessId}\n");
        }
    }

    public bool Has(string effect, string key)
    {
        lock (_lock)
        {
            return Lines(path).Any(l => l.Effect == effect && l.Key == key);
        }
    }

    public static IReadOnlyList<(string Effect, string Key)> Lines(string path) =>
        File.Exists(path)
            ? [.. File.ReadAllLines(path).Select(l => l.Split(' ')).Where(p => p.Length >= 2).Select(p => (p[0], p[1]))]
            : [];
}
