using System.Globalization;

namespace Keel.Cli.Output;

/// <summary>How times and durations are printed: UTC timestamps (marked Z), offsets from a run's start such as
/// <c>+0.412s</c>, and durations as a person says them (<c>3h 12m</c>).</summary>
internal static class TimeFormat
{
    public static string Timestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string ShortTimestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>An offset from <paramref name="origin"/>, precise enough to order a timeline: <c>+0.412s</c>,
    /// <c>+2m 05.120s</c>, <c>+3h 04m 05s</c>, <c>+2d 3h 04m</c>.</summary>
    public static string Relative(DateTimeOffset time, DateTimeOffset origin)
    {
        var offset = time - origin;
        var d = offset.Duration();
        var text = d.TotalDays >= 1 ? Invariant($"{(int)d.TotalDays}d {d.Hours}h {d.Minutes:00}m")
            : d.TotalHours >= 1 ? Invariant($"{(int)d.TotalHours}h {d.Minutes:00}m {d.Seconds:00}s")
            : d.TotalMinutes >= 1 ? Invariant($"{(int)d.TotalMinutes}m {d.Seconds:00}.{d.Milliseconds:000}s")
            : Invariant($"{d.TotalSeconds:0.000}s");
        return (offset < TimeSpan.Zero ? "-" : "+") + text;
    }

    /// <summary>How long something took or has waited, as a person says it: <c>0.412s</c>, <c>2m 05s</c>, <c>3h 12m</c>,
    /// <c>2d 3h</c>.</summary>
    public static string Duration(TimeSpan duration)
    {
        var d = duration.Duration();
        return d.TotalDays >= 1 ? Invariant($"{(int)d.TotalDays}d {d.Hours}h")
            : d.TotalHours >= 1 ? Invariant($"{(int)d.TotalHours}h {d.Minutes:00}m")
            : d.TotalMinutes >= 1 ? Invariant($"{(int)d.TotalMinutes}m {d.Seconds:00}s")
            : Invariant($"{d.TotalSeconds:0.000}s");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
