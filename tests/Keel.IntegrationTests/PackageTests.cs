using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Keel.IntegrationTests;

/// <summary>
/// <c>dotnet pack</c> of the whole solution (from the Release build the test run made), so packaging cannot break
/// silently: every package has what a package page and a debugger need.
/// </summary>
public class PackageTests
{
    private static readonly string[] Packages = ["Keel", "Keel.Sqlite", "Keel.Postgres", "Keel.AI", "Keel.Server", "Keel.Testing", "Keel.Cli", "Keel.Tool"];

    [Fact]
    public async Task EveryPackage_HasItsReadmeTagsRepositoryLicenseAndSymbols_AndTheToolIsATool()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Keel.slnx")))
        {
            root = root.Parent ?? throw new InvalidOperationException("The Keel checkout (Keel.slnx) is not above " + AppContext.BaseDirectory);
        }
        var output = Directory.CreateTempSubdirectory("keel-pack-");
        try
        {
            var info = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { "pack", Path.Combine(root.FullName, "Keel.slnx"), "-c", "Release", "--no-build", "-o", output.FullName, "-nologo" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using (var pack = Process.Start(info)!)
            {
                var stdout = pack.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
                var stderr = pack.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
                await pack.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
                Assert.True(pack.ExitCode == 0, $"dotnet pack failed:\n{await stdout}\n{await stderr}");
            }

            foreach (var id in Packages)
            {
                var nupkg = Path.Combine(output.FullName, $"{id}.0.1.0.nupkg");
                Assert.True(File.Exists(nupkg), $"{id}: no package ({string.Join(", ", output.GetFiles().Select(f => f.Name))})");
                using var package = ZipFile.OpenRead(nupkg);
                var nuspec = XDocument.Load(package.GetEntry($"{id}.nuspec")!.Open());
                XNamespace ns = nuspec.Root!.Name.NamespaceName;
                var metadata = nuspec.Root.Element(ns + "metadata")!;
                string? Value(string name) => metadata.Element(ns + name)?.Value;
                Assert.False(string.IsNullOrWhiteSpace(Value("description")), $"{id}: no description");
                Assert.Contains("durable-execution", Value("tags") ?? "", StringComparison.Ordinal);
                Assert.Equal("MIT", Value("license"));
                Assert.StartsWith("https://", metadata.Element(ns + "repository")?.Attribute("url")?.Value ?? "", StringComparison.Ordinal);
                Assert.Equal("README.md", Value("readme"));
                Assert.NotNull(package.GetEntry("README.md"));

                var snupkg = Path.ChangeExtension(nupkg, ".snupkg");
                Assert.True(File.Exists(snupkg), $"{id}: no symbols package");
                using var symbols = ZipFile.OpenRead(snupkg);
                Assert.Contains(symbols.Entries, e => e.Name == $"{id}.pdb");
                if (id == "Keel.Tool")
                {
                    Assert.Equal("DotnetTool", metadata.Element(ns + "packageTypes")?.Element(ns + "packageType")?.Attribute("name")?.Value);
                }
            }
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
