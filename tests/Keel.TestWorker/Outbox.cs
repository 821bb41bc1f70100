using System.Globalization;
using System.Text;

namespace Keel.TestWorker;

/// <summary>
/// A fake outbox (what an AtMostOnce step sends): one file per process in a directory, a line "KEY\tRESULT" per message,
/// written to the OS before the step returns, so an operator can tell whether an interrupted send happened.
/// </summary>
public sealed class Outbox(string directory)
{
    private readonly Lock _lock = new();
    private FileStream? _file;

    public void Send(string key, string result)
    {
        var bytes = Encoding.UTF8.GetBytes($"{key}\t{result}\n");
        lock (_lock)
        {
            // Opened on first use: workers that never send leave no file.
            _file ??= new FileStream(Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"outbox-{Environment.ProcessId}-{Guid.NewGuid():N}.log")),
                FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            _file.Write(bytes);
        }
    }

    /// <summary>Every message sent, from every process's file: (key, result).</summary>
    public static IReadOnlyList<(string Key, string Result)> Read(string directory) =>
        Directory.Exists(directory)
            ? [.. Directory.EnumerateFiles(directory, "outbox-*.log")
                .SelectMany(path =>
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                    using var reader = new StreamReader(stream);
                    return reader.ReadToEnd().Split('\n');
                })
                .Select(line => line.Split('\t'))
                .Where(parts => parts.Length == 2)
                .Select(parts => (parts[0], parts[1]))]
            : [];
}
