using Keel.Cli.Output;

namespace Keel.Cli.Tests.Output;

public class TimeFormatTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 14, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(412, "+0.412s")]
    [InlineData(59_999, "+59.999s")]
    [InlineData(125_120, "+2m 05.120s")]
    [InlineData(11_045_000, "+3h 04m 05s")]
    [InlineData(183_840_000, "+2d 3h 04m")]
    [InlineData(-1_500, "-1.500s")]
    public void Relative_FormatsOffsetFromStart(long ms, string expected) =>
        Assert.Equal(expected, TimeFormat.Relative(Start.AddMilliseconds(ms), Start));

    [Theory]
    [InlineData(412, "0.412s")]
    [InlineData(125_120, "2m 05s")]
    [InlineData(11_655_200, "3h 14m")] // not 11655.2s
    [InlineData(183_840_000, "2d 3h")]
    public void Duration_IsWhatAPersonSays(long ms, string expected) =>
        Assert.Equal(expected, TimeFormat.Duration(TimeSpan.FromMilliseconds(ms)));

    [Fact]
    public void Timestamp_IsUtcWithMilliseconds() =>
        Assert.Equal("2026-11-26 15:00:00.250Z", TimeFormat.Timestamp(new DateTimeOffset(2026, 11, 26, 16, 0, 0, 250, TimeSpan.FromHours(1))));
}
