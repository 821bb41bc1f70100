namespace Keel;

/// <summary>Thrown by a step body to fail the step at once, without retrying.</summary>
public class TerminalStepException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the step cannot succeed.</param>
    /// <param name="innerException">The cause, if any.</param>
    public TerminalStepException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
