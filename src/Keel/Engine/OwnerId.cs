using System.Diagnostics;
using System.Globalization;

namespace Keel.Engine;

/// <summary>
/// Worker owner ids: <c>machine/pid/process-start/suffix</c>. A worker can tell that an owner on its own machine is
/// dead (its process is gone, or the pid was reused), and free that owner's leases at once instead of waiting for
/// them to expire: a local crash then costs no lease timeout.
/// </summary>
internal static class OwnerId
{
    public static string Create()
    {
        using var self = Process.GetCurrentProcess();
        var started = new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.MachineName}/{Environment.ProcessId}/{started}/{Guid.NewGuid().ToString("N")[..8]}");
    }

    /// <summary>True only when the owner is certainly dead: same machine, and no process with that pid and start time.</summary>
    public static bool IsDeadLocalOwner(string owner)
    {
        var parts = owner.Split('/');
        if (parts.Length != 4 || !string.Equals(parts[0], Environment.MachineName, StringComparison.Ordinal) ||
            !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ||
            !long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var startedMs))
        {
            return false;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            var actual = new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();
            // Start times are read from /proc with clock-tick precision; a different process differs by far more.
            return Math.Abs(actual - startedMs) > 2000;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        catch (InvalidOperationException)
        {
            return true; // exited while we looked
        }
    }
}
