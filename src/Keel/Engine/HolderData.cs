namespace Keel.Engine;

/// <summary>The worker that claimed a run, as journaled (<see cref="JournalEntryKind.RunClaimed"/>).</summary>
/// <param name="Host">The machine it runs on.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="Build">The build of its code (<see cref="KeelOptions.BuildId"/>).</param>
internal sealed record ClaimData(string? Host, int? Pid, string? Build)
{
    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}

/// <summary>How the worker holding a run let go of it, as journaled (<see cref="JournalEntryKind.RunReleased"/>).</summary>
/// <param name="Status">The status it left the run in (null: kept, as for a hand-back).</param>
/// <param name="DueAt">When the run is due again, if at a time.</param>
/// <param name="Signals">The signals it waits for, if any.</param>
/// <param name="Reason">Why, in words (what it waits for), if said.</param>
internal sealed record ReleaseData(RunStatus? Status, DateTimeOffset? DueAt, IReadOnlyList<string>? Signals, string? Reason)
{
    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}

/// <summary>The worker a <see cref="FencedWriter"/> writes for: its writes say who holds the run.</summary>
internal sealed record WorkerStamp(string WorkerId, string? Host, int? Pid, string? Build)
{
    /// <summary>The payload of its <see cref="JournalEntryKind.RunClaimed"/> records: the same for every run it claims.</summary>
    public string ClaimPayload { get; } = new ClaimData(Host, Pid, Build).ToJson();
}

/// <summary>When a wait that journals nothing else until it ends began to wait for, as journaled
/// (<see cref="JournalEntryKind.TimerStarted"/>, <see cref="JournalEntryKind.SignalWaitStarted"/>).</summary>
/// <param name="DueAt">A timer's due time, a signal wait's deadline; null for a signal wait without one.</param>
internal sealed record WaitStartData(DateTimeOffset? DueAt)
{
    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}

/// <summary>A model's choice of a tool call, as journaled (<see cref="JournalEntryKind.ToolChosen"/>).</summary>
/// <param name="Model">The model that chose, when known.</param>
/// <param name="Arguments">The arguments it chose; null when larger than <see cref="MaxArgumentBytes"/> (the
/// conversation's stored messages keep them whole).</param>
internal sealed record ToolChoiceData(string? Model, System.Text.Json.JsonElement? Arguments)
{
    public const int MaxArgumentBytes = 4096;

    public string ToJson() => KeelJson.Serialize(this, KeelJson.Default);
}
