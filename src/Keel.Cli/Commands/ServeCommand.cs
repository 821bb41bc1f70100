using System.CommandLine;
using System.Net;
using Keel.Cli.Storage;
using Keel.Server;

namespace Keel.Cli.Commands;

/// <summary><c>keel serve</c>: the HTTP API and the web dashboard over a database, until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var db = CliOptions.Database();
        var postgres = CliOptions.Postgres();
        var url = new Option<string>("--url")
        {
            Description = "Where to listen. Loopback by default; use port 0 for any free port.",
            HelpName = "URL",
            DefaultValueFactory = _ => "http://127.0.0.1:5480",
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "Require this key on every API call (Authorization: Bearer KEY); default: $KEEL_API_KEY.",
            HelpName = "KEY",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEEL_API_KEY") is { Length: > 0 } value ? value : null,
        };
        var apiKeys = new Option<string?>("--api-keys")
        {
            Description = "Keys with a name and a role each, from a JSON file: [{\"name\":\"ana\",\"role\":\"approver\",\"key\":\"...\"}] " +
                          "(roles: viewer reads, approver also decides approvals and resolutions, operator does everything); " +
                          "what a key does is journaled with its name.",
            HelpName = "FILE",
        };
        var linkSecret = new Option<string?>("--link-secret")
        {
            Description = "The secret (32+ characters) that signs approval links for reviewers without a key; default: $KEEL_LINK_SECRET, " +
                          "else a random one (links then stop working when the server restarts).",
            HelpName = "SECRET",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEEL_LINK_SECRET") is { Length: > 0 } value ? value : null,
        };
        var noAuth = new Option<bool>("--no-auth")
        {
            Description = "Serve beyond loopback without an API key (anyone who reaches it can approve, cancel and signal runs).",
        };
        var command = new Command("serve", "Serve the HTTP API and the web dashboard for a database until Ctrl+C.") { db, postgres, url, apiKey, apiKeys, linkSecret, noAuth };
        CommandAction.Set(command, async (parse, output, ct) =>
        {
            var address = ParseUrl(parse.GetValue(url)!);
            var key = parse.GetValue(apiKey);
            var keys = parse.GetValue(apiKeys) is { } file ? await ReadKeysAsync(file, ct) : [];
            if (key is null && keys.Count == 0 && !IsLoopback(address) && !parse.GetValue(noAuth))
            {
                throw new CliException($"{address} is reachable from other machines, and the API can approve, cancel and signal runs: " +
                                       "give --api-key KEY (or set KEEL_API_KEY) or --api-keys FILE, or --no-auth to serve it open on purpose.");
            }
            if (parse.GetValue(linkSecret) is { Length: < 32 })
            {
                throw new CliException("--link-secret is shorter than 32 characters: use a random secret (e.g. `openssl rand -hex 32`).");
            }
            var options = new KeelServerOptions { Url = address.ToString(), ApiKey = key, ApiKeys = keys, ApprovalLinkSecret = parse.GetValue(linkSecret) };
            try
            {
                foreach (var each in options.AllKeys)
                {
                    each.Validate();
                }
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message);
            }
            await using var store = await KeelDatabase.OpenExistingAsync(parse.GetValue(db)!, parse.GetValue(postgres), ct);
            await using var server = await KeelServer.StartAsync(KeelClient.Create(store), options, cancellationToken: ct);
            var listening = server.Addresses.Count > 0 ? server.Addresses[0] : address;
            output.Out.WriteLine($"Keel dashboard: {listening}");
            output.Out.WriteLine($"Keel API:       {new Uri(listening, "api/runs")}{(options.AllKeys.Count == 0 ? "" : $" (needs an API key: {options.AllKeys.Count} configured)")}");
            output.Out.WriteLine($"Keel health:    {new Uri(listening, "healthz")}");
            output.Out.WriteLine("Ctrl+C stops the server (runs and workers are not affected).");
            await output.Out.FlushAsync(ct);
            try
            {
                await server.WaitForShutdownAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C: a normal end for a server.
            }
            return 0;
        });
        return command;
    }

    /// <summary>The keys of an <c>--api-keys</c> file; what is wrong with it, said, when it does not read.</summary>
    private static async Task<IReadOnlyList<KeelApiKey>> ReadKeysAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--api-keys: cannot read {path}: {ex.Message}");
        }
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<List<KeelApiKey>>(text, KeysJson)
                   ?? throw new CliException($"--api-keys: {path} holds null; give a JSON array of {{\"name\",\"role\",\"key\"}}.");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new CliException($"--api-keys: {path} is not a JSON array of {{\"name\",\"role\",\"key\"}} with roles viewer, approver or operator ({ex.Message}).");
        }
    }

    private static readonly System.Text.Json.JsonSerializerOptions KeysJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter<KeelApiRole>() },
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/"
            ? uri
            : throw new CliException($"--url '{text}' is not a listening address like http://127.0.0.1:5480 (scheme, host and port, no path).");

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
