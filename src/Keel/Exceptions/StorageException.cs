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

    /// <summary>
    /// True when the store refused the data itself (too large for it, characters it cannot hold): the same write will
    /// never succeed. A run whose outcome a store refuses this way fails with this error instead of being retried.
    /// </summary>
    public bool RejectsData { get; init; }
}
