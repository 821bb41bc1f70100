namespace Keel;

/// <summary>A wait for a signal ended because its timeout passed before a signal of that name arrived.</summary>
public sealed class SignalTimeoutException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="signalName">The signal waited for.</param>
    /// <param name="timeout">How long the workflow waited.</param>
    public SignalTimeoutException(string signalName, TimeSpan timeout)
        : base($"No signal '{signalName}' arrived within {timeout}.")
    {
        SignalName = signalName;
        Timeout = timeout;
    }

    /// <summary>The signal waited for.</summary>
    public string SignalName { get; }

    /// <summary>How long the workflow waited.</summary>
    public TimeSpan Timeout { get; }
}
