namespace Keel.Storage;

/// <summary>What sending a signal did.</summary>
public enum SignalOutcome
{
    /// <summary>No run has that id; nothing was stored.</summary>
    NotFound,

    /// <summary>The run has finished; nothing was stored.</summary>
    AlreadyFinished,

    /// <summary>Stored in the inbox. A released run that waits for it is due now.</summary>
    Stored,

    /// <summary>Stored in the inbox, and a worker holds the run: tell it, so it need not wait for its next lease renewal.</summary>
    StoredHeld,

    /// <summary>The run is released waiting for this signal, and the payload's JSON kind is not one its waiting code can
    /// read (<see cref="RunTransition.SignalPayloadKinds"/>); nothing was stored.</summary>
    Refused,
}
