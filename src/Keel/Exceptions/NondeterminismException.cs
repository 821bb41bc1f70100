namespace Keel;

/// <summary>The workflow code asked for a different operation than the journal recorded at a position.</summary>
public sealed class NondeterminismException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The position.</param>
    /// <param name="recorded">What the journal recorded there.</param>
    /// <param name="requested">What the code now asks for.</param>
    public NondeterminismException(string runId, int sequence, string recorded, string requested)
        : base($"Run '{runId}' is blocked by nondeterminism at position {sequence}: the journal recorded {recorded}, " +
               $"but the workflow code now asks for {requested}. The workflow code changed while this run was in flight " +
               "(or depends on something other than its journal). To continue: deploy code that asks for the same operations " +
               "at the journaled positions (the code the run started with, or the change guarded by GetVersion or Patched, see " +
               "docs/versioning.md), then unblock the run; or cancel it. A worker of another build retries it once by itself when it starts.")
    {
        RunId = runId;
        Sequence = sequence;
        Recorded = recorded;
        Requested = requested;
    }

    /// <summary>The run.</summary>
    public string RunId { get; }

    /// <summary>The position where the code and journal differ.</summary>
    public int Sequence { get; }

    /// <summary>What the journal recorded.</summary>
    public string Recorded { get; }

    /// <summary>What the code asked for.</summary>
    public string Requested { get; }
}
