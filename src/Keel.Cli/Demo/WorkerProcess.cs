using System.Diagnostics;
using System.Globalization;

namespace Keel.Cli.Demo;

/// <summary>A <c>keel worker</c> child process: the same program, started again with the <c>worker</c> command.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private const int KeptLines = 20;
    private readonly Process _process;
    private readonly Queue<string> _recentOutput = new();

    private WorkerProcess(int number, Process process)
    {
        Number = number;
        _process = process;
        ProcessId = process.Id;
    }

    /// <summary>1 for the first worker the demo starts, 2 for the second.</summary>
    public int Number { get; }

    public int ProcessId { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Label => string.Create(CultureInfo.InvariantCulture, $"worker {Number} (pid {ProcessId})");

    /// <summary>The last lines the worker printed (stdout and stderr), for error messages.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_recentOutput)
            {
                return string.Join(Environment.NewLine, _recentOutput);
            }
        }
    }

    public static WorkerProcess Start(int number, string databasePath, string runId, int stepDelayMs, StepAttemptRef? holdAt = null)
    {
        var (fileName, prefix) = ResolveSelf();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var arg in prefix.Concat(["worker", "--db", databasePath, "--until", runId,
                     "--step-delay-ms", stepDelayMs.ToString(CultureInfo.InvariantCulture),
                     .. holdAt is null ? Array.Empty<string>() : ["--hold-at", holdAt.ToString()]]))
        {
            start.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = start };
        WorkerProcess? worker = null;
        process.OutputDataReceived += (_, e) => worker?.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => worker?.Keep(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new CliException($"could not start {fileName}", ExitCodes.Failure);
        }
        worker = new WorkerProcess(number, process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>
    /// How to run the keel tool again for a worker: the apphost itself (<c>Keel.Tool</c>, or the <c>keel</c> tool shim), or
    /// <c>dotnet exec Keel.Tool.dll</c> when running under the dotnet host or inside another host (a test runner, an app
    /// that hosts the commands), from beside this library.
    /// </summary>
    internal static (string FileName, IReadOnlyList<string> Prefix) ResolveSelf()
    {
        var processPath = Environment.ProcessPath;
        var name = processPath is null ? "" : Path.GetFileNameWithoutExtension(processPath);
        if (processPath is not null && (string.Equals(name, "keel", StringComparison.OrdinalIgnoreCase) || string.Equals(name, ToolAssembly, StringComparison.OrdinalIgnoreCase)))
        {
            return (processPath, []);
        }
        var dotnet = processPath is not null && string.Equals(name, "dotnet", StringComparison.OrdinalIgnoreCase)
            ? processPath
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        var tool = entry?.GetName().Name == ToolAssembly ? entry.Location : Path.Combine(AppContext.BaseDirectory, ToolAssembly + ".dll");
        if (!File.Exists(tool))
        {
            throw new CliException($"keel demo starts its workers with the keel tool, and {tool} is not there: run the demo from the keel tool " +
                                   "(dotnet tool install --global Keel.Tool, or dotnet run --project src/Keel.Tool -- demo)", ExitCodes.Failure);
        }
        return (dotnet, ["exec", tool]);
    }

    private const string ToolAssembly = "Keel.Tool";

    /// <summary>Kills the worker with SIGKILL (no drain, no lease release) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_recentOutput)
        {
            _recentOutput.Enqueue(line);
            while (_recentOutput.Count > KeptLines)
            {
                _recentOutput.Dequeue();
            }
        }
    }
}
