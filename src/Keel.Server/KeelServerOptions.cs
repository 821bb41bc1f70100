namespace Keel.Server;

/// <summary>Settings of a stand-alone <see cref="KeelServer"/>.</summary>
public sealed record KeelServerOptions
{
    /// <summary>Where to listen. Loopback by default: the API can approve and cancel, so exposing it is a deliberate choice.</summary>
    public string Url { get; init; } = "http://127.0.0.1:5480";

    /// <summary>When set, API calls must carry this key (<c>Authorization: Bearer KEY</c>); the dashboard asks for it once.
    /// An operator's key (see <see cref="ApiKeys"/>), named <c>api-key</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Keys with a name and a role each (<see cref="KeelApiKey"/>): a viewer reads, an approver also decides,
    /// an operator does everything; what a key does is journaled with its name. With <see cref="ApiKey"/> if both are set.</summary>
    public IReadOnlyList<KeelApiKey> ApiKeys { get; init; } = [];

    /// <summary>All the keys the API accepts.</summary>
    public IReadOnlyList<KeelApiKey> AllKeys =>
        ApiKey is { Length: > 0 } key ? [.. ApiKeys, KeelApiKey.SharedKey(key)] : ApiKeys;

    /// <summary>The secret that signs approval links (<see cref="KeelApprovalLinkOptions.Secret"/>, at least 32 characters);
    /// null for a random one of this process (links then stop working when the server restarts).</summary>
    public string? ApprovalLinkSecret { get; init; }

    /// <summary>Whether to serve the dashboard beside the API.</summary>
    public bool Dashboard { get; init; } = true;

    // Logged options must not carry secrets: the keys and the link secret are left out of ToString.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Url = ").Append(Url).Append(", ApiKeys = ").Append(AllKeys.Count)
            .Append(", ApprovalLinkSecret = ").Append(ApprovalLinkSecret is null ? "(random)" : "(set)").Append(", Dashboard = ").Append(Dashboard);
        return true;
    }
}
