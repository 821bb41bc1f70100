using System.Diagnostics;

namespace Keel.AI.Tests;

/// <summary>A Keel.AI.TestWorker child process, killed with SIGKILL by the crash tests.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public static WorkerProcess Start(string db, Uri endpoint, string toolLog)
    {
        // artifacts/bin/Keel.AI.Tests/<config>/ -> artifacts/bin/Keel.AI.TestWorker/<config>/
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var dll = Path.Combine(dir.Parent!.Parent!.FullName, "Keel.AI.TestWorker", dir.Name, "Keel.AI.TestWorker.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The AI test worker is not built at {dll}.");
        }
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "exec", dll, "--db", db, "--endpoint", endpoint.ToString(), "--tool-log", toolLog },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
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

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
