using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Cli.Tests.Handoff;

namespace Keel.Cli.Tests.Commands;

/// <summary>
/// The CLI through a real <c>keel serve</c> (<c>--address URL --api-key KEY</c>): it tells what the database tells, acts as
/// it acts on the database, and refuses as it refuses, with the same exit codes.
/// </summary>
public class RemoteCommandTests
{
    private const string Key = "remote-test-key-0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryCommand_ThroughKeelServe_TellsWhatTheDatabaseTells_AndActsOnIt()
    {
        using var dir = new TempDirectory();
        var db = dir.DatabasePath;
        await HandoffGoldenTests.MakeRunsAsync(db);

        var served = await ServeCommandTests.WithServerAsync(["--db", db, "--api-key", Key], async (address, _) =>
        {
            string[] Remote(params string[] args) => [.. args, "--address", address.ToString(), "--api-key", Key];
            string[] Local(params string[] args) => [.. args, "--db", db];
            var remoteArguments = $"--address {address} --api-key \\\"$KEEL_API_KEY\\\""; // as JSON writes it

            // Reading: the same records, so the same JSON (the printed commands name where they act).
            foreach (var (state, runId) in HandoffGoldenTests.Runs)
            {
                var local = await OkAsync(Local("handoff", runId, "--json"));
                var remote = await OkAsync(Remote("handoff", runId, "--json"));
                Assert.True(local.Replace($"--db {db}", remoteArguments, StringComparison.Ordinal) == remote, $"{state}:\n{local}\n---\n{remote}");
                Assert.Equal(await OkAsync(Local("show", runId, "--json")), await OkAsync(Remote("show", runId, "--json")));
            }
            Assert.Equal(await OkAsync(Local("runs", "--json", "--limit", "100")), await OkAsync(Remote("runs", "--json", "--limit", "100")));
            Assert.Equal(await OkAsync(Local("runs", "--json", "--status", "Waiting")), await OkAsync(Remote("runs", "--json", "--status", "Waiting")));
            Assert.Equal(await OkAsync(Local("pending", "--json")), await OkAsync(Remote("pending", "--json")));
            var person = await OkAsync(Remote("runs", "--waiting-on-person", "--json"));
            Assert.Equal(await OkAsync(Local("runs", "--waiting-on-person", "--json")), person);
            Assert.Equal(["guard-wait", "refund-wait", "shape-blocked"], // an approval, a step that needs attention, a blocked run
                JsonNode.Parse(person)!["runs"]!.AsArray().Select(r => (string)r!["runId"]!).Order(StringComparer.Ordinal));
            Assert.Equal(await OkAsync(Local("workers", "--json")), await OkAsync(Remote("workers", "--json")));
            Assert.Contains("Waiting", await OkAsync(Remote("show", "invoice-wait")), StringComparison.Ordinal);

            // Acting: each action once, on the run it fits, with the one --json envelope.
            var signal = Envelope(await OkAsync(Remote("signal", "invoice-wait", "invoice-paid", "\"paid\"", "--by", "bea", "--reason", "bank confirmed", "--json")), "signal", "invoice-wait");
            Assert.Equal("invoice-paid", (string)signal["signal"]!);
            Envelope(await OkAsync(Remote("approve", "refund-wait", "--name", "refund", "--by", "ana", "--json")), "approve", "refund-wait");
            Envelope(await OkAsync(Remote("resolve", "guard-wait", "--retry", "--by", "ana", "--json")), "resolve", "guard-wait");
            Assert.Contains("is resumed", await OkAsync(Remote("resume", "reminder-paused", "--by", "ana")), StringComparison.Ordinal);
            Envelope(await OkAsync(Remote("unblock", "shape-blocked", "--reason", "v2 deployed", "--json")), "unblock", "shape-blocked");
            var retried = JsonNode.Parse(await OkAsync(Remote("retry", "charge-failed", "--reason", "card fixed", "--json")))!;
            Assert.Equal("charge-failed", (string)retried["runs"]![0]!["runId"]!);
            var paused = Envelope(await OkAsync(Remote("pause", "reminder-wait", "--json")), "pause", "reminder-wait");
            Assert.True((string)paused["run"]!["status"]! == "Paused" || (bool)paused["run"]!["pauseRequested"]!, paused.ToJsonString());
            var priority = Envelope(await OkAsync(Remote("priority", "parent-wait", "7", "--json")), "priority", "parent-wait");
            Assert.Equal(7, (int)priority["run"]!["priority"]!);
            var cancelled = JsonNode.Parse(await OkAsync(Remote("cancel", "parent-wait", "--reason", "not needed", "--json")))!;
            Assert.Equal("parent-wait", (string)cancelled["runs"]![0]!["runId"]!);
            var started = JsonNode.Parse(await OkAsync(Remote("start", "order", "\"bo\"", "--run-id", "remote-start", "--json")))!;
            Assert.Equal(("remote-start", "bo"), ((string)started["runId"]!, (string)started["run"]!["input"]!)); // input as a JSON value
            var fork = Envelope(await OkAsync(Remote("fork", "order-done", "--at", "2", "--run-id", "order-done-fork", "--json")), "fork", "order-done");
            Assert.Equal("order-done-fork", (string)fork["fork"]!["runId"]!);

            // Refusals: the exit codes and sentences a database gives.
            var missing = await Cli.RunAsync(Remote("show", "no-such-run"));
            Assert.True(missing.ExitCode == 3 && missing.Err.Contains("no-such-run", StringComparison.Ordinal), missing.ToString());
            var nothingPending = await Cli.RunAsync(Remote("approve", "order-done", "--json"));
            Assert.Equal(4, nothingPending.ExitCode);
            Assert.False((bool)JsonNode.Parse(nothingPending.Out)!["ok"]!);
            var badJson = await Cli.RunAsync(Remote("signal", "invoice-wait", "invoice-paid", "{oops"));
            Assert.Equal(2, badJson.ExitCode);
            var wrongKey = await Cli.RunAsync("runs", "--address", address.ToString(), "--api-key", "wrong");
            Assert.True(wrongKey.ExitCode == 5 && wrongKey.Err.Contains("refused", StringComparison.Ordinal), wrongKey.ToString());
            var noKey = await Cli.RunAsync("runs", "--address", address.ToString());
            Assert.True(noKey.ExitCode == 5 && noKey.Err.Contains("--api-key", StringComparison.Ordinal), noKey.ToString());
        });
        Assert.True(served.ExitCode == 0, served.ToString());

        // What the server did is in the database, as if done there.
        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(db);
            k.RunWorker = false;
        }, cancellationToken: Token);
        Assert.Contains(await keel.Store.GetSignalsAsync("invoice-wait", Token), s => s.Payload == "\"paid\"");
        Assert.Empty(await keel.Store.ListPendingApprovalsAsync("refund-wait", 10, Token));
        Assert.NotEqual(RunStatus.NeedsAttention, (await keel.Client.GetRunAsync("guard-wait", Token))!.Status);
        Assert.NotEqual(RunStatus.Paused, (await keel.Client.GetRunAsync("reminder-paused", Token))!.Status);
        Assert.NotEqual(RunStatus.Blocked, (await keel.Client.GetRunAsync("shape-blocked", Token))!.Status);
        Assert.NotEqual(RunStatus.Failed, (await keel.Client.GetRunAsync("charge-failed", Token))!.Status);
        var cancelled = (await keel.Client.GetRunAsync("parent-wait", Token))!;
        Assert.True(cancelled.Status == RunStatus.Cancelled || cancelled.CancelRequested, cancelled.ToString());
        Assert.Equal(7, cancelled.Priority);
        Assert.NotNull(await keel.Client.GetRunAsync("remote-start", Token));
        Assert.NotNull(await keel.Client.GetRunAsync("order-done-fork", Token));
        var sender = Assert.Single((await keel.Client.GetHistoryAsync("invoice-wait", Token))!.Decisions, d => d.Name == "signal");
        Assert.Equal(("invoice-paid", "bea", "bank confirmed"), (sender.SignalName, sender.By, sender.Reason));
        var journal = await keel.Client.GetJournalAsync("shape-blocked", Token);
        Assert.Contains(journal, e => e.Payload?.Contains("v2 deployed", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Address_IsCheckedBeforeAnything_AndAServerThatIsNotThereIsSaidSo()
    {
        using var dir = new TempDirectory();
        var both = await Cli.RunAsync("runs", "--address", "http://127.0.0.1:5480", "--db", dir.DatabasePath);
        Assert.True(both.ExitCode == 2 && both.Err.Contains("not both", StringComparison.Ordinal), both.ToString());
        var notUrl = await Cli.RunAsync("runs", "--address", "ftp://example.com");
        Assert.True(notUrl.ExitCode == 2 && notUrl.Err.Contains("http(s) URL", StringComparison.Ordinal), notUrl.ToString());

        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port nothing listens on
        var gone = await Cli.RunAsync("show", "r-1", "--json", "--address", $"http://127.0.0.1:{port}");
        Assert.True(gone.ExitCode == 5 && gone.Err.Contains("cannot reach keel serve", StringComparison.Ordinal), gone.ToString());
        Assert.Equal(5, JsonNode.Parse(gone.Out)!["error"]!["exitCode"]!.GetValue<int>());
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    private static async Task<string> OkAsync(string[] args)
    {
        var result = await Cli.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"keel {string.Join(' ', args)}: {result}");
        return result.Out;
    }

    /// <summary>The one envelope of an action: ok, the action, the run, a sentence, and the run as it is after.</summary>
    private static JsonNode Envelope(string json, string action, string runId)
    {
        var envelope = JsonNode.Parse(json)!;
        Assert.True((bool)envelope["ok"]!, json);
        Assert.Equal((action, runId), ((string)envelope["action"]!, (string)envelope["runId"]!));
        Assert.False(string.IsNullOrEmpty((string?)envelope["message"]), json);
        Assert.Equal(runId, (string)envelope["run"]!["runId"]!);
        Assert.Equal(JsonValueKind.Object, envelope["run"]!.GetValueKind());
        return envelope;
    }
}
