namespace Keel.Cli.Demo;

/// <summary>The result of the demo <c>research-agent</c> workflow.</summary>
/// <param name="Question">What was researched.</param>
/// <param name="Summary">The answer.</param>
/// <param name="Findings">One line per tool call.</param>
internal sealed record ResearchReport(string Question, string Summary, IReadOnlyList<string> Findings);
