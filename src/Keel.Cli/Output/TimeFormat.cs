using System.Globalization;

namespace Keel.Cli.Output;

/// <summary>How times and durations are printed: UTC timestamps, and offsets from a run's start such as <c>+0.412s</c>.</summary>
internal static class TimeFormat
{
    public static string Timestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string ShortTimestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>An offset from <paramref name="origin"/>: <c>+0.412s</c>, <c>+2m05.120s</c>, <c>+3h04m05s</c>.</summary>
    public static string Relative(DateTimeOffset time, DateTimeOffset origin)
    {
        var offset = time - origin;
        var sign = offset < TimeSpan.Zero ? "-" : "+";
        return sign + Duration(offset.Duration());
    }

    /// <summary>A duration: <c>0.412s</c>, <c>2m05.120s</c>, <c>3h04m05s</c>, <c>2d03h04m</c>.</summary>
    public static string Duration(TimeSpan duration)
    {
        var d = duration.Duration();
        return d.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalDays}d{d.Hours:00}h{d.Minutes:00}m")
            : d.TotalHours >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours}h{d.Minutes:00}m{d.Seconds:00}s")
                : d.TotalMinutes >= 1
                    ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalMinutes}m{d.Seconds:00}.{d.Milliseconds:000}s")
                    : string.Create(CultureInfo.InvariantCulture, $"{d.TotalSeconds:0.000}s");
    }
}
