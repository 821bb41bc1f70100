using System.CommandLine;
using System.CommandLine.Help;
using Keel.Cli.Commands;

namespace Keel.Cli;

/// <summary>The <c>keel</c> command line: the keel tool's program calls it, and so can an app that hosts the commands with its
/// own workflows registered.</summary>
public static class KeelCli
{
    /// <summary>Parses and runs one command line, with <see cref="Console.In"/> as stdin.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where normal output goes.</param>
    /// <param name="stderr">Where errors go: one line each, never a stack trace for expected failures.</param>
    /// <param name="cancellationToken">Stops the command (a worker stops gracefully).</param>
    /// <returns>The exit code, one of <see cref="ExitCodes"/>.</returns>
    internal static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default) =>
        RunAsync(args, Console.In, stdout, stderr, null, cancellationToken);

    /// <summary>
    /// Parses and runs one command line on the console, as the keel tool does: Ctrl+C and SIGTERM stop the command (a
    /// worker stops gracefully and releases its leases).
    /// </summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <returns>The exit code, one of <see cref="ExitCodes"/>: <see cref="ExitCodes.BadInput"/> for a command line
    /// that does not parse (the error and the command's help are printed).</returns>
    public static Task<int> RunAsync(string[] args) => RunOnConsoleAsync(args, null);

    /// <summary>
    /// Runs one command line on the console in an app that registers its own workflows, so that <c>keel replay</c> checks
    /// the app's code against recorded runs before it is deployed (and <c>keel worker</c> runs them). Call it from the
    /// app's <c>Main</c> when given keel arguments, for example
    /// <c>if (args is ["keel", ..]) return await KeelCli.RunAsync(args[1..], k =&gt; k.AddWorkflow&lt;Order&gt;());</c>.
    /// Ctrl+C and SIGTERM stop the command.
    /// </summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="workflows">Registers the app's workflows, as for its workers.</param>
    /// <returns>The exit code, one of <see cref="ExitCodes"/>.</returns>
    public static Task<int> RunAsync(string[] args, Action<KeelBuilder> workflows)
    {
        ArgumentNullException.ThrowIfNull(workflows);
        return RunOnConsoleAsync(args, workflows);
    }

    /// <summary>Parses and runs one command line with the given streams, in-process.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="workflows">Registers the app's workflows, or null for none (the tool's own commands).</param>
    /// <param name="stdin">Where a payload given as <c>-</c> is read from.</param>
    /// <param name="stdout">Where normal output goes.</param>
    /// <param name="stderr">Where errors go: one line each, never a stack trace for expected failures.</param>
    /// <param name="cancellationToken">Stops the command (a worker stops gracefully).</param>
    /// <returns>The exit code, one of <see cref="ExitCodes"/>.</returns>
    public static Task<int> RunAsync(string[] args, Action<KeelBuilder>? workflows, TextReader stdin, TextWriter stdout, TextWriter stderr,
        CancellationToken cancellationToken = default) =>
        RunAsync(args, stdin, stdout, stderr, workflows, cancellationToken);

    private static async Task<int> RunOnConsoleAsync(string[] args, Action<KeelBuilder>? workflows)
    {
        using var shutdown = new CancellationTokenSource();
        void Stop(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            shutdown.Cancel();
        }
        Console.CancelKeyPress += Stop;
        try
        {
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                shutdown.Cancel();
            });
            return await RunAsync(args, Console.In, Console.Out, Console.Error, workflows, shutdown.Token);
        }
        finally
        {
            Console.CancelKeyPress -= Stop;
        }
    }

    internal static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, Action<KeelBuilder>? workflows,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var root = BuildRootCommand(workflows);
        var configuration = new KeelInvocation(stdin)
        {
            Output = stdout,
            Error = stderr,
            // RunOnConsoleAsync turns Ctrl+C and SIGTERM into cancellation itself, so in-process callers keep their handlers.
            ProcessTerminationTimeout = null,
        };
        // No response files: "@PATH" is how payload arguments name a file (CommandInput.ReadJsonAsync).
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var exitCode = await parsed.InvokeAsync(configuration, cancellationToken);
        // System.CommandLine answers parse errors (unknown option, missing argument, a validator's refusal) with 1.
        return parsed.Errors.Count > 0 ? ExitCodes.BadInput : exitCode;
    }

    /// <remarks>A plain command named <c>keel</c>, not a <see cref="RootCommand"/>, so that usage lines say <c>keel</c>
    /// whatever the executable is called (<c>Keel.Cli</c>, <c>dotnet Keel.Cli.dll</c> or the <c>keel</c> tool).</remarks>
    internal static Command BuildRootCommand(Action<KeelBuilder>? workflows = null) =>
        new("keel", "keel: inspect and control Keel durable runs, and watch one survive a crash (keel demo).")
        {
            new HelpOption(),
            new VersionOption(),
            StartCommand.Create(),
            RunsCommand.Create(),
            ShowCommand.Create(),
            HandoffCommand.Create(),
            CancelCommand.Create(),
            MigrateCommand.Create(),
            PriorityCommand.Create(),
            PauseCommand.CreatePause(),
            PauseCommand.CreateResume(),
            UnblockCommand.Create(),
            RetryCommand.Create(),
            ForkCommand.Create(),
            WorkersCommand.Create(),
            ExportCommand.Create(),
            ReplayCommand.Create(workflows),
            SignalCommand.Create(),
            ApprovalCommands.CreatePending(),
            ApprovalCommands.CreateApprove(),
            ResolveCommand.Create(),
            ServeCommand.Create(),
            DemoCommand.Create(),
            WorkerCommand.Create(),
        };
}
