namespace Keel.Server;

/// <summary>What a key of the HTTP API may do; each role may do what the ones before it may.</summary>
public enum KeelApiRole
{
    /// <summary>Read runs, their journals, handoffs, approvals and workers.</summary>
    Viewer,

    /// <summary>Also decide approvals and the steps that wait for a person (resolve).</summary>
    Approver,

    /// <summary>Everything: also start, signal, pause, resume, cancel, reprioritize, unblock, retry and fork runs.</summary>
    Operator,
}

/// <summary>A key of the HTTP API: who holds it (journaled as who did what it does) and what it may do.</summary>
/// <param name="Name">Whose key it is (a person or a system), journaled as who acted.</param>
/// <param name="Role">What it may do.</param>
/// <param name="Key">The secret, sent as <c>Authorization: Bearer KEY</c> or <c>X-Keel-Api-Key: KEY</c>.</param>
public sealed record KeelApiKey(string Name, KeelApiRole Role, string Key)
{
    /// <summary>The one key of an API configured with a single secret (<see cref="KeelServerOptions.ApiKey"/>): it names
    /// nobody, so who acted is what the call says (<c>by</c>).</summary>
    internal bool Shared { get; init; }

    /// <summary>The one shared operator key of <paramref name="secret"/>.</summary>
    internal static KeelApiKey SharedKey(string secret) => new("api-key", KeelApiRole.Operator, secret) { Shared = true };

    /// <summary>The key without its secret, for logs.</summary>
    /// <returns>Its name and role.</returns>
    public override string ToString() => $"{Name} ({Role})";

    /// <summary>Refuses a key without a name or a secret, or whose secret is too short to be one.</summary>
    /// <exception cref="ArgumentException">It is not usable.</exception>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        if (string.IsNullOrWhiteSpace(Key) || Key.Length < 16)
        {
            throw new ArgumentException($"The API key of '{Name}' is shorter than 16 characters: use a random secret (e.g. `openssl rand -hex 32`).");
        }
        if (!Enum.IsDefined(Role))
        {
            throw new ArgumentException($"The API key of '{Name}' has no known role: use Viewer, Approver or Operator.");
        }
    }
}

/// <summary>The role a call needs (endpoint metadata, read by <see cref="ApiKeyFilter"/>).</summary>
internal sealed record RequiredRole(KeelApiRole Role);

/// <summary>A call open without a key (endpoint metadata, read by <see cref="ApiKeyFilter"/>): its body carries its own
/// authorization (an approval link's signed token).</summary>
internal sealed class KeyNotRequired
{
    public static readonly KeyNotRequired Instance = new();
}
