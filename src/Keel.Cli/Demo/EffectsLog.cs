using System.Globalization;
using System.Text;

namespace Keel.Cli.Demo;

/// <summary>
/// The demo's side-effect record: every execution of a step body appends <c>pid step attempt run</c> before it
/// returns, so the demo can count how often each body really ran, and in which process.
/// </summary>
internal static class EffectsLog
{
    public static async Task AppendAsync(string path, string runId, string step, int attempt, CancellationToken cancellationToken)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {step} {attempt} {runId}\n");
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096, useAsync: true);
        await file.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
        await file.FlushAsync(cancellationToken);
    }

    /// <summary>Reads the executions of one run, in the order they happened; malformed lines are skipped.</summary>
    public static IReadOnlyList<StepExecution> Read(string path, string runId)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        var executions = new List<StepExecution>();
        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 4 && string.Equals(parts[3], runId, StringComparison.Ordinal) &&
                int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) &&
                int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var attempt))
            {
                executions.Add(new StepExecution(pid, parts[1], attempt));
            }
        }
        return executions;
    }
}
