using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Keel.Bench;

internal static class BenchUtil
{
    public static void Log(string message) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{TimeProvider.System.GetUtcNow():HH:mm:ss.fff}] {message}"));

    /// <summary>Nearest-rank percentile of an unsorted sample (p in 0..100).</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);

    public static double Round(double value, int digits = 1) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    public static double TicksToUs(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>Peak resident set (VmHWM) of this process in MB, from /proc/self/status.</summary>
    public static double PeakRssMb() => ReadStatusKb("VmHWM:") / 1024.0;

    /// <summary>Peak resident set (VmHWM) of another process (a child), in MB.</summary>
    public static double PeakRssMb(int pid) => ReadStatusKb("VmHWM:", $"/proc/{pid}/status") / 1024.0;

    public static double CurrentRssMb() => ReadStatusKb("VmRSS:") / 1024.0;

    private static long ReadStatusKb(string key, string path = "/proc/self/status")
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }

    /// <summary>A read-only connection for counting in the bench (not through the engine).</summary>
    public static SqliteConnection OpenRaw(string db)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false, DefaultTimeout = 30 }.ToString());
        connection.Open();
        return connection;
    }

    public static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Starts this bench program again as a child process with the given arguments (stdout/stdin redirected).</summary>
    public static Process StartSelf(IEnumerable<string> args, Action<string> onLine)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        return Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? Start(processPath, ["exec", typeof(BenchUtil).Assembly.Location, .. args], onLine)
            : Start(processPath, args, onLine);
    }

    /// <summary>How to start this bench program again with the given arguments (for a harness that starts and restarts it).</summary>
    public static ProcessStartInfo SelfStartInfo(IEnumerable<string> args)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var info = new ProcessStartInfo { FileName = processPath, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(typeof(BenchUtil).Assembly.Location);
        }
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    /// <summary>Starts a program as a child process with the given arguments (stdout/stdin redirected).</summary>
    public static Process Start(string fileName, IEnumerable<string> args, Action<string> onLine)
    {
        var info = new ProcessStartInfo
        {
            FileName = fileName,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // Same runtime settings as the parent (tiered compilation defaults); no extra env.
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>SIGKILL, and reap the child so that its pid is gone (Keel frees a dead local owner's leases by pid).</summary>
    public static void KillHard(Process process)
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }
}
