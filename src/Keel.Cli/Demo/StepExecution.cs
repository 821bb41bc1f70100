namespace Keel.Cli.Demo;

/// <summary>One execution of a step body, as the effects log recorded it.</summary>
/// <param name="ProcessId">The worker process that ran it.</param>
/// <param name="Step">The step's name.</param>
/// <param name="Attempt">The attempt number.</param>
internal sealed record StepExecution(int ProcessId, string Step, int Attempt);
