namespace Keel.Cli;

/// <summary>
/// The exit codes of the <c>keel</c> command, distinct so that scripts can tell what went wrong; every failure also
/// prints one line on stderr (<c>keel: error: ...</c>) that says what to do.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure: a bug (set <c>KEEL_CLI_DEBUG=1</c> for the stack trace), an I/O error, a port in
    /// use, or a demo whose check failed.</summary>
    public const int Failure = 1;

    /// <summary>Bad input: unknown or missing arguments, malformed JSON, an invalid or empty run id, an unreadable
    /// <c>@file</c>. Nothing was changed.</summary>
    public const int BadInput = 2;

    /// <summary>Not found: no run with that id, or no database file at that path.</summary>
    public const int NotFound = 3;

    /// <summary>Not allowed in the run's state: it has finished, nothing of that kind is pending, it is not paused, ...</summary>
    public const int NotAllowed = 4;

    /// <summary>The store is unavailable or refused: locked, corrupted, unreachable, not a Keel database, or a schema
    /// older (run <c>keel migrate</c>) or newer (upgrade Keel) than this Keel's.</summary>
    public const int StoreUnavailable = 5;

    /// <summary>Stopped by Ctrl+C or SIGTERM before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}
