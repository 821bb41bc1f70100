namespace Keel.Storage;

/// <summary>What recording a decision on an approval did.</summary>
public enum DecideOutcome
{
    /// <summary>The run has no such approval waiting (never asked, or already ended).</summary>
    NotPending,

    /// <summary>Someone decided it already; the decision is on its way to the run.</summary>
    AlreadyDecided,

    /// <summary>The run has finished.</summary>
    RunFinished,

    /// <summary>Recorded; the run receives it as a signal.</summary>
    Decided,

    /// <summary>Recorded, and a worker holds the run: tell it.</summary>
    DecidedHeld,
}
