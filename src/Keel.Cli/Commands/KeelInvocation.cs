using System.CommandLine;

namespace Keel.Cli.Commands;

/// <summary>System.CommandLine's invocation settings plus the stdin a command reads payloads from.</summary>
internal sealed class KeelInvocation(TextReader stdin) : InvocationConfiguration
{
    public TextReader Input { get; } = stdin;
}
