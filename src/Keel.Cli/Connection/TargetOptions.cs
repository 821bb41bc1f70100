using System.CommandLine;
using Keel.Cli.Commands;
using Keel.Cli.Output;
using Keel.Cli.Storage;

namespace Keel.Cli.Connection;

/// <summary>
/// Where a command acts: a SQLite file (<c>--db</c>), a PostgreSQL database (<c>--postgres</c>, <c>$KEEL_POSTGRES</c>) or,
/// for commands that act on runs, a <c>keel serve</c> (<c>--address</c>, <c>$KEEL_ADDRESS</c>, with <c>--api-key</c>,
/// <c>$KEEL_API_KEY</c>). Options given on the command line win over the environment; of the environment's, the address.
/// </summary>
internal sealed class TargetOptions
{
    public const string AddressVariable = "KEEL_ADDRESS";
    public const string ApiKeyVariable = "KEEL_API_KEY";

    private readonly Option<string> _db = CliOptions.Database();
    private readonly Option<string?> _postgres = CliOptions.Postgres();
    private readonly Option<string?>? _address;
    private readonly Option<string?>? _apiKey;

    /// <param name="remote">Whether the command can act through a <c>keel serve</c> (not those that need the database itself).</param>
    public TargetOptions(bool remote = true)
    {
        if (remote)
        {
            _address = new Option<string?>("--address")
            {
                Description = $"Act through the keel serve at this URL (its HTTP API) instead of a database (default: ${AddressVariable}).",
                HelpName = "URL",
                DefaultValueFactory = _ => Environment.GetEnvironmentVariable(AddressVariable) is { Length: > 0 } value ? value : null,
            };
            _apiKey = new Option<string?>("--api-key")
            {
                Description = $"The API key of the keel serve at --address (default: ${ApiKeyVariable}).",
                HelpName = "KEY",
                DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } value ? value : null,
            };
        }
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_db);
        command.Options.Add(_postgres);
        if (_address is null || _apiKey is null)
        {
            return;
        }
        command.Options.Add(_address);
        command.Options.Add(_apiKey);
        command.Validators.Add(r =>
        {
            if (r.GetResult(_address) is { Implicit: false } && (r.GetResult(_db) is { Implicit: false } || r.GetResult(_postgres) is { Implicit: false }))
            {
                r.AddError("Give --address (a keel serve) or --db/--postgres (a database), not both.");
            }
        });
    }

    /// <summary>Opens what the options name: the server when an address is given (on the command line, or in the
    /// environment when no database is given on it), else the database.</summary>
    public async Task<IKeelService> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (Address(parse) is { } address)
        {
            return new RemoteKeelService(address, parse.GetValue(_apiKey!), RemoteArguments(parse, address));
        }
        return await OpenLocalAsync(parse, cancellationToken);
    }

    /// <summary>Opens the database, for the commands that need the store itself (export, replay).</summary>
    public async Task<LocalKeelService> OpenLocalAsync(ParseResult parse, CancellationToken cancellationToken) =>
        new(await KeelDatabase.OpenExistingAsync(parse.GetValue(_db)!, parse.GetValue(_postgres), cancellationToken), LocalArguments(parse));

    private Uri? Address(ParseResult parse)
    {
        if (_address is null || parse.GetValue(_address) is not { } text)
        {
            return null;
        }
        var explicitly = parse.GetResult(_address) is { Implicit: false };
        if (!explicitly && (parse.GetResult(_db) is { Implicit: false } || parse.GetResult(_postgres) is { Implicit: false }))
        {
            return null; // a database named on the command line wins over $KEEL_ADDRESS
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"{(explicitly ? "--address" : "$" + AddressVariable)} must be the http(s) URL of a keel serve, such as " +
                                   $"http://127.0.0.1:5480; it is '{text}'.");
        }
        return uri;
    }

    /// <summary>The options that name the same server in a printed command: the address unless it came from the
    /// environment; the key never (a secret), but the variable that holds it when it was given on the command line.</summary>
    private string RemoteArguments(ParseResult parse, Uri address) =>
        (parse.GetResult(_address!) is { Implicit: false } ? $" --address {Shell.Quote(address.OriginalString)}" : "") +
        (parse.GetResult(_apiKey!) is { Implicit: false } ? $" --api-key \"${ApiKeyVariable}\"" : "");

    /// <summary>The options that name the same database in a printed command: the file when it is not the default; for
    /// PostgreSQL, the variable to hold the connection string (never the string, which may carry a password).</summary>
    private string LocalArguments(ParseResult parse)
    {
        if (parse.GetResult(_postgres) is { Implicit: false })
        {
            return " --postgres \"$KEEL_POSTGRES\"";
        }
        if (parse.GetValue(_postgres) is not null)
        {
            return ""; // from KEEL_POSTGRES: the printed commands read it too
        }
        var path = parse.GetValue(_db)!;
        return path == CliOptions.DefaultDatabase ? "" : $" --db {Shell.Quote(path)}";
    }
}
