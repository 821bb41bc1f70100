using System.Diagnostics;
using System.Runtime.InteropServices;
using Keel.Postgres;
using Keel.Sqlite;
using Keel.Storage;

namespace Keel.IntegrationTests;

/// <summary>
/// Keel in a native AOT app (samples/Keel.Samples.NativeAot, published here), on SQLite and on PostgreSQL: a workflow
/// class registered without reflection, its records serialized from a source-generated context, replayed after a
/// SIGKILL, woken by a signal sent from a JIT process. Alone (after the other classes): the publish keeps both cores
/// busy for a minute, which would skew the timing of the crash tests running beside it.
/// </summary>
[Collection(nameof(NativeAotTests))]
public class NativeAotTests
{
    // Published once for both stores (about a minute on 2 cores).
    private static readonly Lazy<Task<string>> s_sample = new(() => PublishSampleAsync(Directory.CreateTempSubdirectory("keel-aot-").FullName));

    [Fact]
    public Task NativeAotWorker_OnSqlite_ResumesItsRunAfterSigkill_AndCompletesItWithASignalFromAnotherProcess()
    {
        var dir = Directory.CreateTempSubdirectory("keel-aot-db-");
        var db = Path.Combine(dir.FullName, "refunds.db");
        return ResumeAfterSigkillAsync(["--db", db], () => new SqliteWorkflowStore(new SqliteStoreOptions { Path = db }), () => dir.Delete(recursive: true));
    }

    [Fact]
    public Task NativeAotWorker_OnPostgres_ResumesItsRunAfterSigkill_AndCompletesItWithASignalFromAnotherProcess()
    {
        var connectionString = Environment.GetEnvironmentVariable("KEEL_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "KEEL_TEST_POSTGRES is not set, so the native AOT PostgreSQL test has no server. Run ./test.sh (it starts a " +
                "throwaway PostgreSQL with eng/postgres.sh), or set KEEL_TEST_POSTGRES to an Npgsql connection string.");
        var schema = "keel_aot_" + Guid.NewGuid().ToString("N")[..16];
        PostgresWorkflowStore Store() => new(new PostgresStoreOptions { ConnectionString = connectionString, Schema = schema });
        return ResumeAfterSigkillAsync(["--postgres", connectionString, "--schema", schema], Store, () =>
        {
            using var connection = new Npgsql.NpgsqlConnection(connectionString);
            connection.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE;", connection);
            drop.ExecuteNonQuery();
        });
    }

    private static async Task ResumeAfterSigkillAsync(string[] storeArgs, Func<IWorkflowStore> openStore, Action cleanUp)
    {
        var ct = TestContext.Current.CancellationToken;
        var exe = await s_sample.Value.WaitAsync(ct);

        // First worker: starts the run, which does its first step and waits for the approval; killed there.
        using (var first = Start(exe, [.. storeArgs, "--start", "refund-1"]))
        {
            // READY: the store is set up and the run was started.
            await WaitUntilAsync(() => Task.FromResult(first.Output().Contains("READY", StringComparison.Ordinal)), first, "start the run", ct);
            await using var store = openStore();
            var client = KeelClient.Create(store);
            await WaitUntilAsync(async () => (await JournalAsync(client, ct)).Any(e => e is { Kind: JournalEntryKind.StepCompleted, Name: "lookup" }),
                first, "reach its first step", ct);
            first.Process.Kill();
            await first.Process.WaitForExitAsync(ct);
            // The approval comes from this (JIT) process while no worker runs.
            await client.SignalAsync("refund-1", "approve", new { By = "ana" }, ct);
        }

        // Second worker: replays the first step from the journal, takes the signal, does the last step.
        using var second = Start(exe, storeArgs);
        await second.Process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        var result = second.Output().Split('\n').SingleOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        Assert.True(result is not null, "no result from the resumed worker: " + second.Output());
        Assert.Equal("""RESULT {"orderId":"order-7","amount":42.50,"receipt":"rf-order-7-1","approvedBy":"ana"}""", result.TrimEnd('\r'));
        await using (var store = openStore())
        {
            var journal = await JournalAsync(KeelClient.Create(store), ct);
            Assert.Single(journal, e => e is { Kind: JournalEntryKind.StepCompleted, Name: "lookup" }); // not run again
            Assert.Single(journal, e => e is { Kind: JournalEntryKind.StepCompleted, Name: "refund" });
        }
        cleanUp();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Child worker, string what, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.False(worker.Process.HasExited, $"the native AOT worker exited before it could {what}: {worker.Output()}");
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the native AOT worker did not {what} within 60 s: {worker.Output()}");
            await Task.Delay(50, ct);
        }
    }

    private static Task<IReadOnlyList<JournalEntry>> JournalAsync(KeelClient client, CancellationToken ct) => client.GetJournalAsync("refund-1", ct);

    /// <summary>Publishes the sample into its own artifacts tree (about a minute on 2 cores), apart from the test build's.</summary>
    private static async Task<string> PublishSampleAsync(string dir)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Keel.slnx")))
        {
            root = root.Parent ?? throw new InvalidOperationException("The Keel checkout (Keel.slnx) is not above " + AppContext.BaseDirectory);
        }
        var output = Path.Combine(dir, "app");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "publish", Path.Combine(root.FullName, "samples", "Keel.Samples.NativeAot", "Keel.Samples.NativeAot.csproj"), "-c", "Release",
                "-r", RuntimeInformation.RuntimeIdentifier, "-o", output, "-p:ArtifactsPath=" + Path.Combine(dir, "artifacts"), "-nologo",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var publish = Process.Start(info)!;
        var stdout = publish.StandardOutput.ReadToEndAsync();
        var stderr = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        Assert.True(publish.ExitCode == 0, $"dotnet publish of the native AOT sample failed:\n{await stdout}\n{await stderr}");
        Directory.Delete(Path.Combine(dir, "artifacts"), recursive: true); // the build tree (~100 MB); the app stays for the tests
        return Path.Combine(output, "Keel.Samples.NativeAot");
    }

    private static Child Start(string exe, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var child = new Child(Process.Start(info)!);
        child.Process.OutputDataReceived += (_, e) => child.Add(e.Data);
        child.Process.ErrorDataReceived += (_, e) => child.Add(e.Data);
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        return child;
    }

    private sealed class Child(Process process) : IDisposable
    {
        private readonly System.Text.StringBuilder _output = new();

        public Process Process { get; } = process;

        public void Add(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        public string Output()
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill();
            }
            Process.Dispose();
        }
    }
}

[CollectionDefinition(nameof(NativeAotTests), DisableParallelization = true)]
public sealed class NativeAotTestsRunAlone;
