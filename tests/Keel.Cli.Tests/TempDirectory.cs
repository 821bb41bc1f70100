namespace Keel.Cli.Tests;

/// <summary>A temporary directory per test, with a database path inside; deleted when disposed.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keel-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        DatabasePath = System.IO.Path.Combine(Path, "keel.db");
    }

    public string Path { get; }

    public string DatabasePath { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
