namespace Keel;

/// <summary>
/// Thrown by workflow code (<c>throw ctx.ContinueAsNew(next)</c>) to end the run and continue as a new run with a new
/// input. Do not catch it in workflow code.
/// </summary>
public sealed class ContinueAsNewException : Exception
{
    internal ContinueAsNewException(string inputJson)
        : base("The workflow continues as a new run.")
    {
        InputJson = inputJson;
    }

    /// <summary>The new run's input, as JSON.</summary>
    public string InputJson { get; }
}
