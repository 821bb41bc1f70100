using System.CommandLine;

namespace Keel.Cli.Commands;

/// <summary>Options shared by several commands; a new instance per command, as System.CommandLine requires.</summary>
internal static class CliOptions
{
    public const string DefaultDatabase = "./keel.db";

    public static Option<string> Database() => new("--db")
    {
        Description = "The Keel SQLite database file.",
        HelpName = "PATH",
        DefaultValueFactory = _ => DefaultDatabase,
    };

    /// <summary>A PostgreSQL connection string; when given (or set in KEEL_POSTGRES) it is used instead of --db.</summary>
    public static Option<string?> Postgres() => new("--postgres")
    {
        Description = "Use the PostgreSQL database with this connection string instead of --db (default: $KEEL_POSTGRES).",
        HelpName = "CONNSTR",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEEL_POSTGRES") is { Length: > 0 } value ? value : null,
    };

    /// <summary>--by: who acts, for the run's record (default: the user running the command).</summary>
    public static Option<string?> By() => new("--by") { Description = "Who acts, for the run's record (default: your user name).", HelpName = "WHO" };

    /// <summary>--reason: why, for the run's record.</summary>
    public static Option<string?> Reason() => new("--reason") { Description = "Why, for the run's record.", HelpName = "TEXT" };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print JSON instead of text.",
    };

    public static Option<int> StepDelay(int defaultMs) => new("--step-delay-ms")
    {
        Description = "How long each demo step body works, in milliseconds.",
        HelpName = "N",
        DefaultValueFactory = _ => defaultMs,
        Validators =
        {
            r =>
            {
                if (r.GetValueOrDefault<int>() is < 0 or > 60_000)
                {
                    r.AddError("--step-delay-ms must be between 0 and 60000.");
                }
            },
        },
    };
}
