using Keel;

namespace Keel.TestWorker;

/// <summary>
/// The chaos harness's mixed workflow: a Retryable step that fails transiently 30 % of the time, an Idempotent step,
/// a 100 ms durable timer, a signal ("go") and an approval ("ship") the driver sends, an AtMostOnce send to the fake
/// outbox (no outcome check: an interrupted send waits for the operator), and a child run. Steps take a few ms, so
/// kills land inside them.
/// </summary>
public static class ChaosFlow
{
    public const string Name = "chaos-mixed";
    public const string ChildName = "chaos-child";

    public static void Register(KeelBuilder k, Outbox outbox) => k
        .AddWorkflow<ChaosInput, string>(Name, async (ctx, input) =>
        {
            var seed = input.Seed;
            // A journal of some length: a resumed run has something to replay before it can make progress.
            for (var i = 1; i <= input.Ticks; i++)
            {
                await ctx.StepAsync($"tick-{i}", async sc =>
                {
                    await PauseAsync(sc, 1, 5);
                    return i;
                });
            }
            var flaky = await ctx.StepAsync("flaky", async sc =>
            {
                await PauseAsync(sc, 5, 30);
                if (Random.Shared.NextDouble() < 0.3)
                {
                    throw new InvalidOperationException($"transient failure of attempt {sc.Attempt}");
                }
                return sc.Attempt;
            }, new StepOptions { Retry = new RetryPolicy { MaxAttempts = 50, InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100) } });
            var reserved = await ctx.StepAsync("reserve", async sc =>
            {
                await PauseAsync(sc, 5, 30);
                return sc.IdempotencyKey;
            }, new StepOptions { Effect = StepEffect.Idempotent });
            await ctx.SleepAsync(TimeSpan.FromMilliseconds(100));
            var go = await ctx.WaitForSignalAsync<int>("go");
            var approval = await ctx.RequestApprovalAsync(new ApprovalRequest<int> { Name = "ship", Title = $"ship order {seed}?", Arguments = seed });
            var sent = await ctx.StepAsync("send", async sc =>
            {
                await PauseAsync(sc, 5, 30);
                var receipt = $"sent:{sc.IdempotencyKey}";
                outbox.Send(sc.IdempotencyKey, receipt);
                return receipt;
            }, new StepOptions { Effect = StepEffect.AtMostOnce });
            var child = await ctx.RunChildAsync<int, int>(ChildName, seed);
            return $"{seed}|{flaky > 0}|{reserved}|{go}|{approval.IsApproved}|{sent}|{child}";
        })
        .AddWorkflow<int, int>(ChildName, async (ctx, n) =>
        {
            var square = await ctx.StepAsync("square", async sc =>
            {
                await PauseAsync(sc, 5, 20);
                return n * n;
            });
            return await ctx.StepAsync("plus-one", async sc =>
            {
                await PauseAsync(sc, 5, 20);
                return square + 1;
            });
        });

    private static Task PauseAsync(StepContext sc, int minMs, int maxMs) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(minMs, maxMs)), TimeProvider.System, sc.CancellationToken);
}

/// <summary>The mixed workflow's input: a seed, and how many short steps come first.</summary>
public sealed record ChaosInput(int Seed, int Ticks);

/// <summary>
/// Poison: runs that bring their worker process down every time they are resumed. "poison-step" FailFasts in a step
/// body; "poison-replay" FailFasts in its workflow code whenever it is replayed (it sleeps long enough to be released
/// after its first step, so every later execution is a replay).
/// </summary>
public static class PoisonFlows
{
    public const string Step = "poison-step";
    public const string Replay = "poison-replay";

    public static void Register(KeelBuilder k) => k
        .AddWorkflow<int, int>(Step, async (ctx, n) =>
        {
            var a = await ctx.StepAsync("prepare", _ => Task.FromResult(n));
            return await ctx.StepAsync<int>("explode", _ =>
            {
                Environment.FailFast("poison: step 'explode' brings its worker down");
                return Task.FromResult(a);
            });
        })
        .AddWorkflow<int, int>(Replay, async (ctx, n) =>
        {
            var a = await ctx.StepAsync("prepare", _ => Task.FromResult(n));
            if (ctx.IsReplaying)
            {
                Environment.FailFast("poison: workflow code brings its worker down on replay");
            }
            await ctx.SleepAsync(TimeSpan.FromSeconds(2.5)); // past ReleaseWaitsLongerThan: released, then resumed by a replay
            return await ctx.StepAsync("finish", _ => Task.FromResult(a + 1));
        });
}
