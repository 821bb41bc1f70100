namespace Keel.IntegrationTests;

/// <summary>
/// What a SIGKILL test works in: a temporary directory with the database path and an empty effects log, and a random
/// source whose seed is printed (with the directory, kept when the test fails) so a failing sequence can be replayed.
/// </summary>
internal sealed class CrashScratch
{
    private CrashScratch(DirectoryInfo dir, int seed)
    {
        Dir = dir;
        Seed = seed;
        Random = new Random(seed);
    }

    public DirectoryInfo Dir { get; }

    public string Db => Path.Combine(Dir.FullName, "keel.db");

    public string Effects => Path.Combine(Dir.FullName, "effects.log");

    public Random Random { get; }

    public int Seed { get; }

    /// <summary>Prints the seed and the directory: a failing run can be replayed and its files looked at.</summary>
    public static async Task<CrashScratch> CreateAsync(string prefix, CancellationToken ct)
    {
        var seed = Environment.TickCount;
        var scratch = new CrashScratch(Directory.CreateTempSubdirectory(prefix), seed);
        await File.WriteAllTextAsync(scratch.Effects, "", ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}, dir {scratch.Dir.FullName}");
        return scratch;
    }

    /// <summary>Removes the directory (call at the end of a passing test only).</summary>
    public void Delete() => Dir.Delete(recursive: true);
}
