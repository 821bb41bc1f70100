using System.Diagnostics;
using System.Globalization;

namespace Keel.Testing;

/// <summary>One worker slot of the chaos harness: the process running in it now, restarted as a supervisor would.</summary>
internal sealed class ChaosWorker(int index, ChaosOptions options) : IDisposable
{
    private const int TailLines = 100;
    private readonly Queue<string> _tail = new();
    private readonly Lock _tailLock = new();
    private Process? _process;

    public int Index => index;

    /// <summary>Held while the slot's process is killed, stopped or restarted: one interference at a time per slot.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public int Pid { get; private set; }

    public bool HasExited => _process is null || _process.HasExited;

    public int ExitCode => _process?.ExitCode ?? 0;

    public int Starts { get; private set; }

    public void Start()
    {
        var info = options.StartWorker(index);
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.Environment[BodyLedger.DirectoryVariable] = options.LedgerDirectory;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start worker {index} ({info.FileName}).");
        }
        var old = _process;
        _process = process;
        Pid = process.Id;
        Starts++;
        old?.Dispose();
        lock (_tailLock)
        {
            _tail.Clear();
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        void Line(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_tailLock)
            {
                if (_tail.Count == TailLines)
                {
                    _tail.Dequeue();
                }
                _tail.Enqueue(line);
            }
            options.WorkerOutput?.Invoke(index, process.Id, line);
        }
    }

    /// <summary>The last lines the current process wrote (for the log when it exits on its own).</summary>
    public IReadOnlyList<string> Tail()
    {
        lock (_tailLock)
        {
            return [.. _tail];
        }
    }

    /// <summary>SIGKILL (no cleanup runs in the child), then reaps it so that its pid is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // exited meanwhile
            }
        }
        if (_process is not null)
        {
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Sends a signal by name (STOP, CONT) with kill(1).</summary>
    public async Task SignalAsync(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{name}", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
                         ?? throw new InvalidOperationException("Could not run kill(1).");
        await kill.WaitForExitAsync().ConfigureAwait(false);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{name} {Pid} failed with exit code {kill.ExitCode}.");
        }
    }

    public void Dispose()
    {
        if (_process is { HasExited: false } process)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
            }
        }
        _process?.Dispose();
        Gate.Dispose();
    }
}
