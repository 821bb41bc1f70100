namespace Keel;

/// <summary>A value is larger than Keel stores (<see cref="KeelOptions.Limits"/>); nothing was stored. Not retried.</summary>
public sealed class PayloadTooLargeException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="what">What the value is ("the input of run 'x'").</param>
    /// <param name="size">Its size in bytes.</param>
    /// <param name="limit">The limit in bytes.</param>
    /// <param name="setting">The limit's name in <see cref="PayloadLimits"/>.</param>
    public PayloadTooLargeException(string what, long size, long limit, string setting)
        : base($"The {what} is {size:N0} bytes; the limit is {limit:N0} bytes (KeelOptions.Limits.{setting}). Nothing was stored. " +
               "Keep large data outside Keel (a file, a blob store) and pass a reference, or raise the limit.")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>The value's size in bytes.</summary>
    public long Size { get; }

    /// <summary>The limit in bytes.</summary>
    public long Limit { get; }
}
