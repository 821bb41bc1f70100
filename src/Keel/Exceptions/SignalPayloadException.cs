namespace Keel;

/// <summary>
/// A signal arrived whose payload does not deserialize into the type the workflow waited for. The signal is consumed
/// and kept in the run's journal with its payload, so nothing is lost; the workflow decides what to do.
/// </summary>
public sealed class SignalPayloadException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="signalName">The signal.</param>
    /// <param name="expectedType">The type the workflow waited for.</param>
    /// <param name="payload">The payload as received.</param>
    /// <param name="inner">The deserializer's error.</param>
    public SignalPayloadException(string signalName, Type expectedType, string? payload, Exception inner)
        : base($"Signal '{signalName}' carried {Shorten(payload)}, which is not a {expectedType.Name}: {inner.Message} " +
               "The signal is kept in the run's journal; send it again with a payload of the right shape.", inner)
    {
        SignalName = signalName;
        Payload = payload;
    }

    /// <summary>The signal.</summary>
    public string SignalName { get; }

    /// <summary>The payload as received (JSON).</summary>
    public string? Payload { get; }

    private static string Shorten(string? payload) =>
        payload is null ? "no payload" : payload.Length <= 200 ? payload : payload[..200] + "…";
}
