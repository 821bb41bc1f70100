namespace Keel.Storage;

/// <summary>What an unblock request did.</summary>
public enum UnblockOutcome
{
    /// <summary>No run has that id.</summary>
    NotFound,

    /// <summary>The run had finished already.</summary>
    AlreadyFinished,

    /// <summary>The run is not Blocked; nothing was changed.</summary>
    NotBlocked,

    /// <summary>Unblocked: the run is runnable now.</summary>
    Unblocked,
}
