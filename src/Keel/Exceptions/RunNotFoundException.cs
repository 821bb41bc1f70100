namespace Keel;

/// <summary>No run with the given id exists in the store.</summary>
public sealed class RunNotFoundException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="runId">The unknown id.</param>
    public RunNotFoundException(string runId)
        : base($"No run with id '{runId}' exists in this store. List runs with `keel runs` to find its id.")
        => RunId = runId;

    /// <summary>The unknown id.</summary>
    public string RunId { get; }
}
