namespace Keel.Engine;

/// <summary>Signal names people and workflows may use: Keel reserves the "keel." prefix for its own (approval decisions).</summary>
internal static class SignalNames
{
    public const string ReservedPrefix = "keel.";

    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Signal names starting with '{ReservedPrefix}' are reserved for Keel; '{name}' cannot be used.", nameof(name));
        }
    }
}
