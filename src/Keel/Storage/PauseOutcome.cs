namespace Keel.Storage;

/// <summary>What a pause or resume request did.</summary>
public enum PauseOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run had finished already.</summary>
    AlreadyFinished,

    /// <summary>The run cannot be paused or resumed in its state (Blocked, NeedsAttention; or, to resume, not paused).</summary>
    NotApplicable,

    /// <summary>Done at once: the run is Paused (no worker held it), or resumed.</summary>
    Done,

    /// <summary>The run was flagged; the worker that runs it pauses it before its next operation.</summary>
    Requested,
}
