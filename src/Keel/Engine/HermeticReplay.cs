using System.Diagnostics;
using System.Text.Json;
using Keel.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Engine;

/// <summary>
/// Replays a recorded journal through today's workflow code with no store, no worker and no live calls: the journal
/// state machine hands out the recorded outcomes, and an operation the code asks for beyond them is never started.
/// Reports the first place where code and journal part (the run would be blocked), or that they agree.
/// </summary>
internal static class HermeticReplay
{
    public static ReplayOutcome Run(WorkflowDefinition definition, RunInfo run, IReadOnlyList<JournalEntry> journal, IServiceProvider services,
        JsonSerializerOptions serializerOptions, IReadOnlyDictionary<string, string>? messages = null)
    {
        var machine = new JournalMachine(run.RunId, run.CreatedAt, journal);
        using var host = new ReplayHost(run.RunId, serializerOptions, machine);
        if (messages is not null)
        {
            host.Messages.Add(messages); // from the archive: the stored messages its runs refer to
        }
        using var context = new RunContext(host, machine, run, RetryPolicy.None, NullLogger.Instance);
        object? input;
        try
        {
            input = definition.DeserializeInput(run.Input ?? "null", serializerOptions);
        }
        catch (InvalidWorkflowInputException ex)
        {
            return ReplayOutcome.Differs(0, "the run's input", $"an input of another shape ({ex.Message})");
        }
        using var queued = new SemaphoreSlim(0);
        var scheduler = new WorkflowScheduler(() => queued.Release());
        var code = scheduler.StartAsync(() => context.EnterAsync(() => definition.InvokeAsync(services, context, input)));
        var waited = false;
        try
        {
            Pump(scheduler, machine, context, null);
            while (true)
            {
                var step = machine.NextReplay(code.IsCompleted, code.IsFaulted ? code.Exception!.InnerException : null);
                switch (step.Action)
                {
                    case ReplayAction.Done when !code.IsCompleted && machine.Pending.Count == 0 && !waited:
                        // The code waits for something that is not a durable operation (a library's own asynchronous work,
                        // e.g. an agent framework's after its last model call): let it go on, as a worker would, once.
                        waited = true;
                        AwaitCode(scheduler, machine, context, code, queued);
                        break;
                    case ReplayAction.Done:
                        return Ended(machine, code, journal);
                    case ReplayAction.Cancel:
                        Pump(scheduler, machine, context, () => context.DeliverCancel(step.Entry!.RecordedAt));
                        break;
                    case ReplayAction.Deliver:
                        // As the executor delivers: inside the pump, so continuations run on the run's marked thread.
                        Pump(scheduler, machine, context, () =>
                        {
                            machine.Delivered(step.Operation!, step.Entry!);
                            step.Operation!.Deliver(step.Entry!);
                        });
                        break;
                    case ReplayAction.Fault:
                        return ReplayOutcome.Threw(step.Entry!.Sequence, step.Fault!);
                    default:
                        return ReplayOutcome.From(step.Nondeterminism!);
                }
            }
        }
        catch (NondeterminismException ex)
        {
            return ReplayOutcome.From(ex);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            // A recorded result that no longer reads as the type the code asks for.
            return ReplayOutcome.Threw(machine.Pending.Count == 0 ? 0 : machine.Pending.Keys.Min(), ex);
        }
    }

    /// <summary>Pumps what the code posts to the run's scheduler until it returns or asks for an operation (at most 10 s).</summary>
    private static void AwaitCode(WorkflowScheduler scheduler, JournalMachine machine, RunContext context, Task code, SemaphoreSlim queued)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!code.IsCompleted && machine.Pending.Count == 0 && Environment.TickCount64 < deadline)
        {
            if (queued.Wait(10))
            {
                Pump(scheduler, machine, context, null);
            }
        }
    }

    private static void Pump(WorkflowScheduler scheduler, JournalMachine machine, RunContext context, Action? deliver)
    {
        context.RunCode(scheduler, deliver);
        if (machine.Nondeterminism is { } nondeterminism)
        {
            throw nondeterminism;
        }
    }

    /// <summary>Every recorded outcome was delivered. A run the journal says ended must have ended in the code too.</summary>
    private static ReplayOutcome Ended(JournalMachine machine, Task<object?> code, IReadOnlyList<JournalEntry> journal)
    {
        var ending = journal.LastOrDefault(e => e.Kind is JournalEntryKind.RunCompleted or JournalEntryKind.RunFailed
            or JournalEntryKind.RunCancelled or JournalEntryKind.RunContinuedAsNew);
        if (ending is null || code.IsCompleted)
        {
            return ReplayOutcome.Agrees(code.IsCompleted);
        }
        // The run ended, but the code asks for more: an operation with no recorded outcome is a difference, never a call.
        var waiting = machine.DescribePending();
        return ReplayOutcome.Differs(machine.Pending.Count == 0 ? 0 : machine.Pending.Keys.Max(), $"the run's end ({ending.Kind})",
            machine.Pending.Count == 0 ? "more: the code had not returned" : waiting);
    }

    /// <summary>The host of operations that are never started: only what asking for them needs.</summary>
    private sealed class ReplayHost(string runId, JsonSerializerOptions serializerOptions, JournalMachine machine) : IOperationHost, IDisposable
    {
        private readonly SemaphoreSlim _slots = new(1, 1);

        public string RunId => runId;

        public DateTimeOffset Now => machine.Clock;

        public TimeProvider TimeProvider => TimeProvider.System;

        public JsonSerializerOptions SerializerOptions => serializerOptions;

        public PayloadLimits Limits { get; } = new();

        public RunMessages Messages { get; } = new();

        public CancellationToken RunToken => CancellationToken.None;

        public CancellationToken AbortToken => CancellationToken.None;

        public SemaphoreSlim StepSlots => _slots;

        public bool IsDraining => true;

        public Action<StepContext>? StepStarting => null;

        public bool MayStartWork() => false;

        public Task WaitForSuspectsAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void BodyStarted()
        {
        }

        public void BodyFinished()
        {
        }

        public void Post(InboxItem item)
        {
            // Statuses and records of a replay are not kept: nothing is written.
        }

        public void PostFromBody(InboxItem item) => Post(item);

        public void Wake()
        {
        }

        public Task RecordAsync(JournalEntry entry, CancellationToken cancellationToken, long? consumedSignal = null) => Task.CompletedTask;

        public void AddSignalWaiter(ISignalWaiter waiter)
        {
        }

        public Task DelayUntilAsync(DateTimeOffset due, CancellationToken cancellationToken) => Task.CompletedTask;

        public void Fault(Exception exception)
        {
        }

        public void OnStepRetrying(string step, int attempt, ErrorInfo error, DateTimeOffset retryAt)
        {
        }

        public Activity? StartStepActivity(string step, int sequence, int attempt) => null;

        public void OnStepAttemptEnded(string step, StepEffect effect, string outcome, TimeSpan elapsed)
        {
        }

        public Task<CreateRunResult> CreateChildAsync(NewRun child, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A hermetic replay starts no child run.");

        public void CancelChild(string childRunId, string why)
        {
        }

        public void Dispose() => _slots.Dispose();
    }
}

/// <summary>What a hermetic replay found.</summary>
/// <param name="Compatible">The code asks for what the journal recorded, everywhere.</param>
/// <param name="CodeReturned">The code returned (or threw) by the end of the journal.</param>
/// <param name="Position">Where code and journal part (0 when they agree).</param>
/// <param name="Recorded">What the journal recorded there.</param>
/// <param name="Requested">What the code asks for now.</param>
/// <param name="Message">The difference in one sentence.</param>
internal sealed record ReplayOutcome(bool Compatible, bool CodeReturned, int Position, string? Recorded, string? Requested, string? Message)
{
    public static ReplayOutcome Agrees(bool codeReturned) => new(true, codeReturned, 0, null, null, null);

    public static ReplayOutcome From(NondeterminismException ex) => new(false, false, ex.Sequence, ex.Recorded, ex.Requested, ex.Message);

    public static ReplayOutcome Differs(int position, string recorded, string requested) =>
        new(false, false, position, recorded, requested, $"At position {position} the journal recorded {recorded}, but the code now asks for {requested}.");

    public static ReplayOutcome Threw(int position, Exception ex) =>
        new(false, true, position, "the journal's outcomes", $"code that throws {ex.GetType().Name}",
            $"The workflow code threw while its journal was replayed, near position {position}: {ex.GetType().Name}: {ex.Message}");
}
