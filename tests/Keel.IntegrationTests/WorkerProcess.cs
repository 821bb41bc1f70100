using System.Diagnostics;

namespace Keel.IntegrationTests;

/// <summary>A Keel.TestWorker child process.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static WorkerProcess Start(string db, string effects) => Start(["--db", db, "--effects", effects]);

    /// <summary>Starts the worker with the given arguments (see Keel.TestWorker's Program.cs).</summary>
    public static WorkerProcess Start(IEnumerable<string> args)
    {
        var process = Process.Start(StartInfo(args))!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>How to start the worker with the given arguments (output redirected, for the caller to drain).</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        // artifacts/bin/Keel.IntegrationTests/<config>/ -> artifacts/bin/Keel.TestWorker/<config>/
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var dll = Path.Combine(dir.Parent!.Parent!.FullName, "Keel.TestWorker", dir.Name, "Keel.TestWorker.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The test worker is not built at {dll}.");
        }
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "exec", dll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends a signal by name (STOP, CONT) with kill(1), and waits until it was sent.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{name} {Pid} failed with exit code {kill.ExitCode}");
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
