namespace Keel.Cli.Demo;

/// <summary>What a demo tool returned.</summary>
/// <param name="Tool">The tool's name.</param>
/// <param name="Output">What it found.</param>
internal sealed record ToolResult(string Tool, string Output);
