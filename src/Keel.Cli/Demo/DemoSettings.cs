namespace Keel.Cli.Demo;

/// <summary>How the demo step bodies behave in this worker process.</summary>
/// <param name="StepDelay">How long each step body works.</param>
/// <param name="EffectsLogPath">The side file every step body execution appends one line to.</param>
/// <param name="HoldAt">A step attempt whose body, in this worker, waits until the worker is stopped (a hung call), or null.</param>
internal sealed record DemoSettings(TimeSpan StepDelay, string EffectsLogPath, StepAttemptRef? HoldAt = null)
{
    public const int DefaultStepDelayMs = 400;

    /// <summary>The effects log that belongs to a database: <c>&lt;db&gt;.effects.log</c>.</summary>
    public static string EffectsLogFor(string databasePath) => Path.GetFullPath(databasePath) + ".effects.log";
}
