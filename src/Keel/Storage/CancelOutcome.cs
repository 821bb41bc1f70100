namespace Keel.Storage;

/// <summary>What a cancel request did.</summary>
public enum CancelOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run had finished already.</summary>
    AlreadyFinished,

    /// <summary>The run ended Cancelled at once.</summary>
    Cancelled,

    /// <summary>The run was flagged; the worker that runs it cancels it.</summary>
    Requested,
}
