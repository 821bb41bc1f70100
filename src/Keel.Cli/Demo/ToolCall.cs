namespace Keel.Cli.Demo;

/// <summary>A tool call the demo agent planned.</summary>
/// <param name="Tool">The tool's name (its step is <c>tool:NAME</c>).</param>
/// <param name="Argument">What to ask the tool.</param>
internal sealed record ToolCall(string Tool, string Argument);
