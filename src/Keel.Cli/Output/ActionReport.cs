using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Cli.Commands;
using Keel.Cli.Connection;

namespace Keel.Cli.Output;

/// <summary>
/// What an action command (cancel, pause, resume, priority, signal, approve, resolve, unblock, retry, fork) did: a sentence
/// for a person, or with <c>--json</c> one envelope for a script — <c>{"ok":true,"action","runId","message","run",...}</c>,
/// the run as it is after the action; a refusal is <c>{"ok":false,"error":{"exitCode","message"}}</c> (see <see cref="CommandAction"/>).
/// </summary>
internal static class ActionReport
{
    public static async Task<int> WriteAsync(CommandOutput output, bool json, string action, string runId, string message, IKeelService keel,
        CancellationToken cancellationToken, JsonObject? details = null)
    {
        if (!json)
        {
            output.Out.WriteLine(message);
            return ExitCodes.Success;
        }
        var run = await keel.GetRunAsync(runId, cancellationToken);
        var envelope = new JsonObject
        {
            ["ok"] = true, ["action"] = action, ["runId"] = runId, ["message"] = message,
            ["run"] = run is null ? null : JsonSerializer.SerializeToNode(run, CliJson.Options),
        };
        foreach (var (name, value) in details ?? [])
        {
            envelope[name] = value?.DeepClone();
        }
        CliJson.Write(output.Out, envelope);
        return ExitCodes.Success;
    }

    /// <summary>The envelope of a refusal, for a command run with <c>--json</c>.</summary>
    public static void WriteError(TextWriter output, int exitCode, string message) =>
        CliJson.Write(output, new JsonObject { ["ok"] = false, ["error"] = new JsonObject { ["exitCode"] = exitCode, ["message"] = message } });
}
