using System.Text.Json.Serialization;

namespace Keel.Tests.Engine;

/// <summary>One delivery path: the workflow sees a step's result as journaled, live and after a crash alike.</summary>
public class DeliveryTests
{
    /// <summary>A result whose in-memory value does not survive JSON: the note is not serialized.</summary>
    public sealed record Quote(decimal Amount)
    {
        [JsonIgnore]
        public string Note { get; init; } = "read back";
    }

    [Fact]
    public async Task AValueThatDoesNotRoundTrip_IsSeenTheSame_LiveAndAfterARestart()
    {
        using var db = new TempDatabase();
        var seen = new List<string>();
        var hold = true;
        void Register(KeelBuilder k) => k.AddWorkflow<int, string>("quote", async (ctx, _) =>
        {
            var quote = await ctx.StepAsync("price", _ => Task.FromResult(new Quote(12.5m) { Note = "only in the body's memory" }));
            lock (seen)
            {
                seen.Add($"{quote.Amount}/{quote.Note}");
            }
            await ctx.StepAsync("hold", async sc =>
            {
                if (hold)
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, sc.CancellationToken);
                }
                return 0;
            });
            return $"{quote.Amount}/{quote.Note}";
        });

        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("quote", 0, cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(() => Task.FromResult(seen.Count == 1), "the price step delivered its result live");
        } // the worker stops while 'hold' runs: the next one replays 'price' from the journal

        hold = false;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            Assert.Equal("12.5/read back", await keel.Client.GetResultAsync<string>(runId, TestHost.Token));
        }
        Assert.Equal(["12.5/read back", "12.5/read back"], seen);
    }

    /// <summary>A result that serializes (as <c>{"key":{}}</c>) but cannot be read back: an interface cannot be created.</summary>
    public sealed record OneWayValue(IComparable Key);

    [Fact]
    public async Task AValueThatCannotBeReadBack_FailsTheStepForGood_InsteadOfBeingDeliveredFromMemory()
    {
        using var db = new TempDatabase();
        var attempts = 0;
        await using var keel = await TestHost.StartAsync(db, k => k.AddWorkflow<int, string>("write-only", async (ctx, _) =>
        {
            try
            {
                await ctx.StepAsync("make", _ =>
                {
                    Interlocked.Increment(ref attempts);
                    return Task.FromResult(new OneWayValue(5));
                });
                return "delivered";
            }
            catch (StepFailedException ex)
            {
                return ex.Error.Message;
            }
        }));
        var run = await keel.Client.StartAsync("write-only", 0, cancellationToken: TestHost.Token);
        var result = await keel.Client.GetResultAsync<string>(run.RunId, TestHost.Token);
        Assert.Contains("does not read back from its JSON as OneWayValue", result, StringComparison.Ordinal);
        Assert.Equal(1, attempts); // not retried: another attempt would produce the same
        var journal = await keel.Client.GetJournalAsync(run.RunId, TestHost.Token);
        Assert.Equal(JournalEntryKind.StepFailed, journal.Single(e => e.Name == "make").Kind);
    }
}
