namespace Keel.Cli.Tests;

/// <summary>Runs the CLI in-process with captured output.</summary>
internal static class Cli
{
    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(TestContext.Current.CancellationToken, args);

    public static Task<CliResult> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        RunCoreAsync("", args, cancellationToken);

    /// <summary>Runs the CLI with <paramref name="stdin"/> as its standard input.</summary>
    public static Task<CliResult> RunWithStdinAsync(string stdin, params string[] args) =>
        RunCoreAsync(stdin, args, TestContext.Current.CancellationToken);

    /// <summary>Runs the CLI as an app that hosts it with its own workflows does.</summary>
    public static Task<CliResult> RunHostedAsync(Action<KeelBuilder> workflows, params string[] args) =>
        RunCoreAsync("", args, TestContext.Current.CancellationToken, workflows);

    private static async Task<CliResult> RunCoreAsync(string stdin, string[] args, CancellationToken cancellationToken, Action<KeelBuilder>? workflows = null)
    {
        using var input = new StringReader(stdin);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await KeelCli.RunAsync(args, input, stdout, stderr, workflows, cancellationToken);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }
}

internal sealed record CliResult(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}
