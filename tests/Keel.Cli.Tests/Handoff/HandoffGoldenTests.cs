using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Keel.Cli.Output;
using Keel.Storage;

namespace Keel.Cli.Tests.Handoff;

/// <summary>
/// <c>keel handoff --json</c> for runs in every state, made by a real worker on a real SQLite file, against checked-in
/// golden files (times, worker identities and the database path replaced by placeholders); and every "next" action of
/// every golden run executed as printed (values in capitals filled in), on a copy of the database, doing what it says.
/// Set KEEL_UPDATE_GOLDEN=1 to write the golden files again (then read the diff).
/// </summary>
public partial class HandoffGoldenTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The golden runs: the state each stands for, and its run id.</summary>
    internal static readonly (string State, string RunId)[] Runs =
    [
        ("completed", "order-done"),
        ("failed-after-retries", "charge-failed"),
        ("waiting-for-signal", "invoice-wait"),
        ("waiting-for-timer", "reminder-wait"),
        ("waiting-for-approval", "refund-wait"),
        ("waiting-for-child", "parent-wait"),
        ("needs-attention", "guard-wait"),
        ("blocked", "shape-blocked"),
        ("cancelled", "invoice-cancelled"),
        ("paused", "reminder-paused"),
        ("continued-as-new", "batch-1"),
        ("killed-and-resumed", "order-taken-over"),
    ];

    [Fact]
    public async Task Handoff_OfARunInEveryState_MatchesItsGoldenFile_AndEveryNextActionDoesWhatItSays()
    {
        using var dir = new TempDirectory();
        var db = dir.DatabasePath;
        await MakeRunsAsync(db);

        var update = Environment.GetEnvironmentVariable("KEEL_UPDATE_GOLDEN") == "1";
        var mismatches = new List<string>();
        foreach (var (state, runId) in Runs)
        {
            var result = await Cli.RunAsync("handoff", runId, "--json", "--db", db);
            Assert.True(result.ExitCode == 0, result.ToString());
            var json = Normalize(result.Out, db);
            var path = GoldenPath(state);
            if (update)
            {
                await File.WriteAllTextAsync(path, json, Token);
            }
            else if (!File.Exists(path) || await File.ReadAllTextAsync(path, Token) != json)
            {
                mismatches.Add($"{state}: {Path.GetFileName(path)} differs from what keel handoff printed:\n{json}");
            }
            // The read model the handoff is made from, as every consumer gets it (keel show --json, the API's history).
            var show = await Cli.RunAsync("show", runId, "--json", "--db", db);
            Assert.True(show.ExitCode == 0, show.ToString());
            var history = Normalize(RankIndexes(JsonNode.Parse(show.Out)!["history"]!).ToJsonString(Relaxed), db);
            var historyPath = GoldenPath(Path.Combine("history", state));
            if (update)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(historyPath)!);
                await File.WriteAllTextAsync(historyPath, history, Token);
            }
            else if (!File.Exists(historyPath) || await File.ReadAllTextAsync(historyPath, Token) != history)
            {
                mismatches.Add($"{state}: history/{Path.GetFileName(historyPath)} differs from the read model keel show printed:\n{history}");
            }

            var text = await Cli.RunAsync("handoff", runId, "--db", db);
            Assert.True(text.ExitCode == 0, text.ToString());
            Assert.Contains((string)JsonNode.Parse(result.Out)!["state"]!["summary"]!, text.Out, StringComparison.Ordinal);
        }
        Assert.True(mismatches.Count == 0, string.Join("\n\n", mismatches));

        foreach (var (state, runId) in Runs)
        {
            var handoff = JsonNode.Parse((await Cli.RunAsync("handoff", runId, "--json", "--db", db)).Out)!;
            foreach (var action in handoff["next"]!.AsArray())
            {
                await ExecuteAsync(dir, db, state, runId, action!);
            }
        }
    }

    [Fact]
    public async Task Handoff_AsMarkdown_IsReadyToPasteIntoATicket_AndAnUnknownRunIsRefused()
    {
        using var dir = new TempDirectory();
        await MakeRunsAsync(dir.DatabasePath, only: "refund-wait");
        var markdown = await Cli.RunAsync("handoff", "refund-wait", "--markdown", "--db", dir.DatabasePath);
        Assert.True(markdown.ExitCode == 0, markdown.ToString());
        Assert.StartsWith("## Run refund-wait (refund): Waiting", markdown.Out, StringComparison.Ordinal);
        Assert.Contains("**Next**", markdown.Out, StringComparison.Ordinal);
        Assert.Contains($"    keel approve refund-wait --name refund --db {dir.DatabasePath}", markdown.Out, StringComparison.Ordinal);

        var missing = await Cli.RunAsync("handoff", "no-such-run", "--db", dir.DatabasePath);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no-such-run", missing.Err, StringComparison.Ordinal);
        Assert.Equal(2, (await Cli.RunAsync("handoff", "refund-wait", "--json", "--markdown", "--db", dir.DatabasePath)).ExitCode);
    }

    /// <summary>Runs one next action as printed, on a copy of the database, and checks the run changed as it says.</summary>
    private static async Task ExecuteAsync(TempDirectory dir, string db, string state, string runId, JsonNode action)
    {
        var kind = (string)action["kind"]!;
        var copy = Path.Combine(dir.Path, $"{state}-{kind}-{Guid.NewGuid():N}.db");
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            if (File.Exists(db + suffix))
            {
                File.Copy(db + suffix, copy + suffix);
            }
        }
        var command = ((string)action["command"]!)
            .Replace(HandoffCommands.ResultPlaceholder, "'\"done by hand\"'", StringComparison.Ordinal)
            .Replace(HandoffCommands.PayloadPlaceholder, "'\"paid\"'", StringComparison.Ordinal)
            .Replace(HandoffCommands.ReasonPlaceholder, "'handoff test'", StringComparison.Ordinal)
            .Replace(db, copy, StringComparison.Ordinal);
        var args = ShellWords(command);
        Assert.Equal("keel", args[0]);
        var result = await Cli.RunAsync([.. args.Skip(1)]);
        Assert.True(result.ExitCode == 0, $"{state}: `{command}` failed: {result}");

        await using var keel = await KeelHost.StartAsync(k =>
        {
            k.UseSqlite(copy);
            k.RunWorker = false;
        }, cancellationToken: Token);
        var run = (await keel.Store.GetRunAsync(runId, Token))!;
        var what = $"{state}: `{command}` ({(string)action["description"]!}) left the run {run.Status}";
        switch (kind)
        {
            case "Approve" or "Reject":
                Assert.True((await keel.Store.ListPendingApprovalsAsync(runId, 10, Token)).Count == 0, what);
                // The decision waits in the run's inbox for its worker, which journals it.
                var decision = Assert.Single(await keel.Store.GetSignalsAsync(runId, Token)).Payload!;
                Assert.Contains(kind == "Approve" ? "\"Approved\"" : "\"Rejected\"", decision, StringComparison.Ordinal);
                break;
            case "Resolve":
                Assert.True(run.Status != RunStatus.NeedsAttention, what);
                break;
            case "Signal":
                Assert.Contains(await keel.Store.GetSignalsAsync(runId, Token), s => s.Payload == "\"paid\"");
                break;
            case "Unblock":
                Assert.True(run.Status != RunStatus.Blocked, what);
                break;
            case "Retry":
                Assert.True(run.Status != RunStatus.Failed, what);
                break;
            case "Resume":
                Assert.True(run.Status != RunStatus.Paused, what);
                break;
            case "Pause":
                Assert.True(run.Status == RunStatus.Paused || run.PauseRequested, what);
                break;
            case "Cancel":
                Assert.True(run.Status == RunStatus.Cancelled || run.CancelRequested, what);
                break;
            case "Inspect":
                Assert.Contains((string)action["runId"]!, result.Out, StringComparison.Ordinal);
                break;
            default:
                Assert.Fail($"{state}: an action this test does not know: {kind}");
                break;
        }
    }

    /// <summary>Splits a command as a POSIX shell does for the quoting <c>keel</c> prints (words, '…' with '\'' inside).</summary>
    private static List<string> ShellWords(string command)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var inWord = false;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (c == '\'')
            {
                inWord = true;
                var end = command.IndexOf('\'', i + 1);
                word.Append(command, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '\\' && i + 1 < command.Length)
            {
                word.Append(command[++i]);
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Journal indexes (index, firstIndex, lastIndex) as their rank in the document (1, 2, ...): the store numbers entries across all runs, so
    /// the numbers depend on how the golden runs interleaved; their order within the run does not.</summary>
    private static JsonNode RankIndexes(JsonNode node)
    {
        var indexes = new SortedSet<long>();
        Visit(node, (obj, name) => indexes.Add(obj[name]!.GetValue<long>()));
        var rank = indexes.Select((value, i) => (value, i + 1)).ToDictionary(p => p.value, p => p.Item2);
        Visit(node, (obj, name) => obj[name] = rank[obj[name]!.GetValue<long>()]);
        return node;

        static void Visit(JsonNode? node, Action<JsonObject, string> index)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (name, value) in obj.ToList())
                    {
                        if (name.EndsWith("ndex", StringComparison.Ordinal) && value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                        {
                            index(obj, name);
                        }
                        else
                        {
                            Visit(value, index);
                        }
                    }
                    break;
                case JsonArray array:
                    foreach (var item in array)
                    {
                        Visit(item, index);
                    }
                    break;
            }
        }
    }

    /// <summary>The handoff JSON without what differs from one run of the test to the next: times, worker identities
    /// (numbered in order of appearance), the database path, stack traces.</summary>
    private static string Normalize(string json, string db)
    {
        var workers = new Dictionary<string, string>(StringComparer.Ordinal);
        var text = json.Replace(db, "<db>", StringComparison.Ordinal);
        text = WorkerId().Replace(text, m =>
        {
            if (!workers.TryGetValue(m.Value, out var name))
            {
                workers[m.Value] = name = $"<worker-{workers.Count + 1}>";
            }
            return name;
        });
        text = IsoTime().Replace(text, "<time>");
        text = TextTime().Replace(text, "<time>");
        var node = JsonNode.Parse(text)!;
        Scrub(node);
        return node.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }).ReplaceLineEndings("\n") + "\n";

        static void Scrub(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (name, value) in obj.ToList())
                    {
                        if (name is "stackTrace" && value is not null)
                        {
                            obj[name] = "<stack>";
                        }
                        else if (value is not null && name is "host" or "pid" && obj.ContainsKey("id"))
                        {
                            obj[name] = $"<{name}>"; // a worker's machine and process
                        }
                        else
                        {
                            Scrub(value);
                        }
                    }
                    break;
                case JsonArray array:
                    foreach (var item in array)
                    {
                        Scrub(item);
                    }
                    break;
            }
        }
    }

    // A worker's id: host/pid/start/random, as OwnerId makes it.
    [GeneratedRegex(@"[A-Za-z0-9._-]+/\d+/\d+/[0-9a-f]{8}")]
    private static partial Regex WorkerId();

    [GeneratedRegex(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")]
    private static partial Regex IsoTime();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")]
    private static partial Regex TextTime();

    /// <summary>The golden file in the checkout. Found from the test's binaries, not from <c>[CallerFilePath]</c>: a CI
    /// build maps source paths to <c>/_/</c> (ContinuousIntegrationBuild), where no file is.</summary>
    private static string GoldenPath(string state)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Keel.slnx")))
        {
            root = root.Parent ?? throw new InvalidOperationException("The Keel checkout (Keel.slnx) is not above " + AppContext.BaseDirectory);
        }
        return Path.Combine(root.FullName, "tests", "Keel.Cli.Tests", "Handoff", "Golden", $"{state}.json");
    }
}
