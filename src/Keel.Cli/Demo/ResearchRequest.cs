namespace Keel.Cli.Demo;

/// <summary>The input of the demo <c>research-agent</c> workflow.</summary>
/// <param name="Question">What to research.</param>
internal sealed record ResearchRequest(string Question);
