using System.Text.Json;

namespace Keel.Cli.Output;

/// <summary>Approval requests and decisions from their journal payloads, in words.</summary>
internal static class ApprovalText
{
    public static string? Action(JournalEntry? requested) =>
        Read(requested?.Payload, root => root.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null);

    public static string Request(JournalEntry requested) =>
        Read(requested.Payload, root =>
        {
            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var action = Action(requested);
            var args = root.TryGetProperty("arguments", out var a) ? ErrorText.Truncate(a.GetRawText(), 100) : null;
            return $"\"{title}\"{(action is null ? "" : $", gates step '{action}'")}{(args is null ? "" : $", arguments {args}")}";
        }) ?? "(unreadable request)";

    public static string Decision(JournalEntry decided) =>
        Read(decided.Payload, root =>
        {
            var outcome = root.TryGetProperty("outcome", out var o) ? o.GetString()?.ToLowerInvariant() : "decided";
            if (outcome == "expired")
            {
                return "expired: nobody decided before the deadline";
            }
            var by = root.TryGetProperty("by", out var b) && b.ValueKind == JsonValueKind.String ? $" by {b.GetString()}" : "";
            var comment = root.TryGetProperty("comment", out var c) && c.ValueKind == JsonValueKind.String ? $" (\"{ErrorText.OneLine(c.GetString()!)}\")" : "";
            var edited = root.TryGetProperty("editedArguments", out var e) && e.ValueKind != JsonValueKind.Null
                ? $", arguments edited: {Raw(root, "proposedArguments")} -> {ErrorText.Truncate(e.GetRawText(), 100)}"
                : "";
            return $"{outcome}{by}{comment}{edited}";
        }) ?? "(unreadable decision)";

    private static string Raw(JsonElement root, string property) =>
        root.TryGetProperty(property, out var value) ? ErrorText.Truncate(value.GetRawText(), 100) : "?";

    private static string? Read(string? json, Func<JsonElement, string?> read)
    {
        if (json is null)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return read(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
