namespace Keel.Server;

/// <summary>Settings of a stand-alone <see cref="KeelServer"/>.</summary>
public sealed record KeelServerOptions
{
    /// <summary>Where to listen. Loopback by default: the API can approve and cancel, so exposing it is a deliberate choice.</summary>
    public string Url { get; init; } = "http://127.0.0.1:5480";

    /// <summary>When set, API calls must carry this key (<c>Authorization: Bearer KEY</c>); the dashboard asks for it once.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Whether to serve the dashboard beside the API.</summary>
    public bool Dashboard { get; init; } = true;
}
