using System.Diagnostics;

namespace Keel.IntegrationTests;

/// <summary>A Keel.TestWorker child process.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static WorkerProcess Start(string db, string effects)
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
            ArgumentList = { "exec", dll, "--db", db, "--effects", effects },
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
