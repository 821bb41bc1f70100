namespace Keel;

/// <summary>A step failed for good. Rebuilt from the journal on replay, so it reads the same every time.</summary>
public sealed class StepFailedException : KeelException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stepName">The step.</param>
    /// <param name="attempts">How many attempts were made.</param>
    /// <param name="error">The last attempt's error.</param>
    public StepFailedException(string stepName, int attempts, ErrorInfo error)
        : base($"Step '{stepName}' failed after {attempts} attempt(s): {error.Type}: {error.Message}")
    {
        ArgumentNullException.ThrowIfNull(error);
        StepName = stepName;
        Attempts = attempts;
        Error = error;
    }

    /// <summary>The step's name.</summary>
    public string StepName { get; }

    /// <summary>The number of attempts made.</summary>
    public int Attempts { get; }

    /// <summary>The last attempt's error.</summary>
    public ErrorInfo Error { get; }
}
