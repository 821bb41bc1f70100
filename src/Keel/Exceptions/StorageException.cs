namespace Keel;

/// <summary>The store failed or refused an operation.</summary>
public class StorageException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="isTransient">True when retrying the same call may succeed (a busy or locked database).</param>
    /// <param name="innerException">The cause, if any.</param>
    public StorageException(string message, bool isTransient = false, Exception? innerException = null)
        : base(message, innerException) => IsTransient = isTransient;

    /// <summary>True when retrying the same call may succeed.</summary>
    public bool IsTransient { get; }
}
