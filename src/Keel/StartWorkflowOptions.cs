namespace Keel;

/// <summary>Options for starting a run.</summary>
public sealed record StartWorkflowOptions
{
    /// <summary>
    /// The run id; a new one when null. Starting again with an existing id returns the existing run. 1 to 200
    /// characters from <c>A-Z a-z 0-9 . _ - ~ : @ +</c> (<see cref="RunIds"/>); another id is refused with an
    /// <see cref="ArgumentException"/> before anything is stored.
    /// </summary>
    public string? RunId { get; init; }

    /// <summary>Higher runs are claimed first.</summary>
    public int Priority { get; init; }

    /// <summary>
    /// Start the run even when no worker seen lately serves its workflow (see <see cref="KeelOptions.KnownWorkflowWindow"/>):
    /// for work queued before the workers that run it are deployed. Otherwise such a start is refused with
    /// <see cref="WorkflowNotFoundException"/>, naming the workflows the workers serve.
    /// </summary>
    public bool AllowUnknownWorkflow { get; init; }
}

/// <summary>The outcome of a start.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="Created">False when a run with this id existed and was returned instead.</param>
/// <param name="Run">The run as stored.</param>
public sealed record StartResult(string RunId, bool Created, RunInfo Run);
