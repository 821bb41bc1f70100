namespace Keel.Testing;

/// <summary>A run that needs attention, as the chaos harness hands it to the operator (<see cref="ChaosOptions.Operator"/>).</summary>
public sealed class AttentionCase
{
    internal AttentionCase(KeelClient client, RunInfo run, IReadOnlyList<JournalEntry> journal, JournalEntry attention, IReadOnlyList<BodyStart> bodyStarts)
    {
        Client = client;
        Run = run;
        Journal = journal;
        Attention = attention;
        BodyStarts = bodyStarts;
    }

    /// <summary>The client over the store.</summary>
    public KeelClient Client { get; }

    /// <summary>The run (NeedsAttention).</summary>
    public RunInfo Run { get; }

    /// <summary>Its journal.</summary>
    public IReadOnlyList<JournalEntry> Journal { get; }

    /// <summary>The <see cref="JournalEntryKind.StepNeedsAttention"/> entry it waits on (its payload says why).</summary>
    public JournalEntry Attention { get; }

    /// <summary>The step waiting: its name.</summary>
    public string StepName => Attention.Name;

    /// <summary>The step waiting: its position.</summary>
    public int Sequence => Attention.Sequence;

    /// <summary>The body starts of that step the ledger has seen so far (their idempotency keys tell where to look for
    /// the effect).</summary>
    public IReadOnlyList<BodyStart> BodyStarts { get; }

    /// <summary>The step's idempotency key as its bodies got it (the ledger's), else the default <c>{runId}/{position}</c>.</summary>
    public string IdempotencyKey => BodyStarts.Count > 0 ? BodyStarts[^1].IdempotencyKey : $"{Run.RunId}/{Sequence}";
}
