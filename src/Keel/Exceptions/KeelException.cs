namespace Keel;

/// <summary>The root of every exception Keel throws on its public surface.</summary>
public abstract class KeelException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected KeelException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
