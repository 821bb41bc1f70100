using System.Text;
using System.Text.Json;

namespace Keel.Cli.Tests.Commands;

/// <summary><c>keel serve</c>: the API and dashboard over a database, until cancelled; refuses unsafe or bad settings.</summary>
public class ServeCommandTests
{
    /// <summary>Runs <c>keel serve</c> in-process until <paramref name="body"/> is done with its address, then stops it.</summary>
    internal static async Task<CliResult> WithServerAsync(string[] args, Func<Uri, HttpClient, Task> body)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var stdout = new SharedWriter();
        var stderr = new SharedWriter();
        var serving = KeelCli.RunAsync(["serve", "--url", "http://127.0.0.1:0", .. args], stdout, stderr, stop.Token);
        await TestRuns.UntilAsync(() => Task.FromResult(stdout.Text.Contains("Keel API:", StringComparison.Ordinal) || serving.IsCompleted),
            "the server printed its address");
        Assert.False(serving.IsCompleted, $"serve ended early: {stdout.Text} {stderr.Text}");
        var address = new Uri(stdout.Text.Split('\n')[0]["Keel dashboard: ".Length..].Trim());
        using (var http = new HttpClient { BaseAddress = address })
        {
            await body(address, http);
        }
        await stop.CancelAsync();
        var exitCode = await serving;
        return new CliResult(exitCode, stdout.Text, stderr.Text);
    }

    [Fact]
    public async Task Serve_AnswersTheApiAndServesTheDashboard_UntilStopped()
    {
        using var dir = new TempDirectory();
        await using (var keel = await KeelHost.StartAsync(k => k.UseSqlite(dir.DatabasePath)
            .AddWorkflow<int, int>("double", (ctx, n) => ctx.StepAsync("times-two", _ => Task.FromResult(n * 2))), cancellationToken: TestContext.Current.CancellationToken))
        {
            await keel.Client.StartAsync("double", 21, new StartWorkflowOptions { RunId = "d-1" }, TestContext.Current.CancellationToken);
            await keel.Client.WaitForCompletionAsync("d-1", TestContext.Current.CancellationToken);
        }

        var result = await WithServerAsync(["--db", dir.DatabasePath], async (_, http) =>
        {
            using var run = JsonDocument.Parse(await http.GetStringAsync("api/runs/d-1", TestContext.Current.CancellationToken));
            Assert.Equal("Completed", run.RootElement.GetProperty("status").GetString());
            Assert.Equal(42, run.RootElement.GetProperty("result").GetInt32());
            Assert.Contains("<title>Keel</title>", await http.GetStringAsync("/", TestContext.Current.CancellationToken), StringComparison.Ordinal);
            using var missing = await http.GetAsync("api/runs/nope", TestContext.Current.CancellationToken);
            Assert.Equal(404, (int)missing.StatusCode);
        });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Ctrl+C stops the server", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_RefusesAnOpenNonLoopbackAddress_ABadUrl_AndAMissingDatabase()
    {
        using var dir = new TempDirectory();
        var open = await Cli.RunAsync("serve", "--db", dir.DatabasePath, "--url", "http://0.0.0.0:5480");
        Assert.Equal(2, open.ExitCode);
        Assert.Contains("--api-key", open.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.DatabasePath));

        var badUrl = await Cli.RunAsync("serve", "--db", dir.DatabasePath, "--url", "localhost");
        Assert.Equal(2, badUrl.ExitCode);
        Assert.Contains("is not a listening address", badUrl.Err, StringComparison.Ordinal);

        var missing = await Cli.RunAsync("serve", "--db", dir.DatabasePath, "--url", "http://127.0.0.1:0");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no Keel database", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithNamedKeys_LetsEachDoWhatItsRoleAllows_ThroughTheRemoteCli_AndRefusesABadKeysFile()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");
        var keys = Path.Combine(dir.Path, "keys.json");
        await File.WriteAllTextAsync(keys, """
            [{"name":"vic","role":"viewer","key":"viewer-key-0123456789abcdef"},
             {"name":"ops","role":"operator","key":"operator-key-0123456789abcdef"}]
            """, TestContext.Current.CancellationToken);
        var result = await WithServerAsync(["--db", dir.DatabasePath, "--api-keys", keys], async (address, _) =>
        {
            string[] As(string key, params string[] args) => [.. args, "--address", address.ToString(), "--api-key", key];
            var read = await Cli.RunAsync(As("viewer-key-0123456789abcdef", "show", "p-1"));
            Assert.True(read.ExitCode == 0, read.ToString());
            var refused = await Cli.RunAsync(As("viewer-key-0123456789abcdef", "cancel", "p-1"));
            Assert.True(refused.ExitCode == 4 && refused.Err.Contains("'vic' is a viewer key", StringComparison.Ordinal), refused.ToString());
            var done = await Cli.RunAsync(As("operator-key-0123456789abcdef", "cancel", "p-1", "--by", "someone-else"));
            Assert.True(done.ExitCode == 0, done.ToString());
        });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("needs an API key: 2 configured", result.Out, StringComparison.Ordinal);
        var cancel = Assert.Single((await TestRuns.GetHistoryAsync(dir.DatabasePath, "p-1")).Decisions, d => d.Name == "cancel");
        Assert.Equal("ops", cancel.By); // the key's name, not --by

        await File.WriteAllTextAsync(keys, """[{"name":"ana","role":"approver","key":"short"}]""", TestContext.Current.CancellationToken);
        var shortKey = await Cli.RunAsync("serve", "--db", dir.DatabasePath, "--api-keys", keys, "--url", "http://127.0.0.1:0");
        Assert.True(shortKey.ExitCode == 2 && shortKey.Err.Contains("16 characters", StringComparison.Ordinal), shortKey.ToString());
        await File.WriteAllTextAsync(keys, """[{"name":"ana","role":"boss","key":"0123456789abcdef0123"}]""", TestContext.Current.CancellationToken);
        var badRole = await Cli.RunAsync("serve", "--db", dir.DatabasePath, "--api-keys", keys, "--url", "http://127.0.0.1:0");
        Assert.True(badRole.ExitCode == 2 && badRole.Err.Contains("viewer, approver or operator", StringComparison.Ordinal), badRole.ToString());
    }

    /// <summary>A writer the server writes to while the test reads it.</summary>
    private sealed class SharedWriter : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }
    }
}
