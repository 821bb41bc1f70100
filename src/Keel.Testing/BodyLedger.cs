using System.Globalization;
using System.Text;

namespace Keel.Testing;

/// <summary>
/// Keeps a line per step body start in a file (through <see cref="KeelOptions.StepStarting"/>), written to the OS before
/// the body runs, so that it survives a SIGKILL of the worker right after: what <see cref="ChaosHarness"/> checks effects
/// against. Each process writes a file of its own in the ledger's directory; <see cref="Read"/> reads them all.
/// </summary>
/// <remarks>
/// One file per process because .NET writes a file at the offset it tracks itself (pwrite), not with O_APPEND: two
/// processes appending to one file would overwrite each other's lines. A line is one write call of the whole line,
/// under a lock, so it is safe from many threads; there is no fsync (a process crash, not a power loss, is what is
/// tested). Lines are tab-separated: UTC ticks, run id, sequence, step name, attempt, effect, idempotency key, pid.
/// </remarks>
public sealed class BodyLedger : IDisposable
{
    /// <summary>The environment variable <see cref="ChaosHarness"/> sets in every worker it starts to the ledger
    /// directory (<see cref="AttachFromEnvironment"/> reads it).</summary>
    public const string DirectoryVariable = "KEEL_BODY_LEDGER";

    private const string Extension = ".bodies";
    private readonly Lock _lock = new();
    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly int _pid = Environment.ProcessId;

    /// <summary>Opens this process's ledger file in <paramref name="directory"/> (created if missing).</summary>
    /// <param name="directory">The ledger directory, shared by every worker of a test.</param>
    /// <param name="timeProvider">The clock of the start times; the system clock by default (the one the engine journals by).</param>
    public BodyLedger(string directory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        _time = timeProvider ?? TimeProvider.System;
        FilePath = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture,
            $"bodies-{_pid}-{Guid.NewGuid().ToString("N")[..8]}{Extension}"));
        // Unbuffered: each line is one write(2) to the OS, nothing waits in this process's memory.
        _file = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
    }

    /// <summary>This process's file.</summary>
    public string FilePath { get; }

    /// <summary>Creates a ledger in <paramref name="directory"/> and has the worker <paramref name="builder"/> configures
    /// record every step body start in it.</summary>
    /// <param name="builder">The worker's Keel builder.</param>
    /// <param name="directory">The ledger directory.</param>
    /// <returns>The ledger (it lives as long as the process; disposing it is optional).</returns>
    public static BodyLedger Attach(KeelBuilder builder, string directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var ledger = new BodyLedger(directory);
        builder.Configure(o => o.StepStarting += ledger.Record);
        return ledger;
    }

    /// <summary>Attaches a ledger in the directory named by <see cref="DirectoryVariable"/>, when it is set.</summary>
    /// <param name="builder">The worker's Keel builder.</param>
    /// <returns>The ledger, or null when the variable is not set.</returns>
    public static BodyLedger? AttachFromEnvironment(KeelBuilder builder) =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } directory ? Attach(builder, directory) : null;

    /// <summary>Records that a step body is about to start (the <see cref="KeelOptions.StepStarting"/> hook).</summary>
    /// <param name="step">The attempt's context.</param>
    public void Record(StepContext step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{_time.GetUtcNow().UtcTicks}\t{Escape(step.RunId)}\t{step.Sequence}\t{Escape(step.StepName)}\t{step.Attempt}\t{step.Effect}\t{Escape(step.IdempotencyKey)}\t{_pid}\n");
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_lock)
        {
            _file.Write(bytes);
            _file.Flush();
        }
    }

    /// <summary>Reads every ledger file in <paramref name="directory"/>, oldest start first. A line cut short (which a
    /// killed writer cannot leave, but a copied file might) is skipped.</summary>
    /// <param name="directory">The ledger directory.</param>
    /// <returns>The body starts.</returns>
    public static IReadOnlyList<BodyStart> Read(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var starts = new List<BodyStart>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            foreach (var line in text.Split('\n'))
            {
                if (Parse(line) is { } start)
                {
                    starts.Add(start);
                }
            }
        }
        starts.Sort((a, b) => a.At.CompareTo(b.At));
        return starts;
    }

    private static BodyStart? Parse(string line)
    {
        var parts = line.Split('\t');
        if (parts.Length != 8
            || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks)
            || !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var sequence)
            || !int.TryParse(parts[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var attempt)
            || !Enum.TryParse<StepEffect>(parts[5], out var effect)
            || !int.TryParse(parts[7], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }
        return new BodyStart(new DateTimeOffset(ticks, TimeSpan.Zero), Unescape(parts[1]), sequence, Unescape(parts[3]), attempt, effect,
            Unescape(parts[6]), pid);
    }

    // Names and keys are user text: a tab or a line break in one must not split the line.
    private static string Escape(string value) =>
        value.AsSpan().IndexOfAny('\\', '\t', '\n') < 0 && !value.Contains('\r', StringComparison.Ordinal)
            ? value
            : value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
                .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);

    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }
        var result = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
                result.Append(value[i] switch { 't' => '\t', 'n' => '\n', 'r' => '\r', var c => c });
            }
            else
            {
                result.Append(value[i]);
            }
        }
        return result.ToString();
    }

    /// <summary>Closes this process's file.</summary>
    public void Dispose() => _file.Dispose();
}
